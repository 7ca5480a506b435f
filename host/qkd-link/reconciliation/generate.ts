/**
 * Generates the shipped code family: `npx tsx host/qkd-link/reconciliation/generate.ts [id...]`.
 * Deterministic (seeded): the same command rewrites byte-identical files. For each code it
 * designs lambda by EXIT linear programming for the BSC, builds the quasi-cyclic base matrix and
 * its shifts, computes the reserved positions (untainted puncturing order, then at most two per check), and writes codes/<name>.bin.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeCodeFile, expandCode } from './code.js';
import { constructBase, reservedOrder } from './construct.js';
import { designByLp } from './design.js';
import { FAMILY } from './family.js';

const outDir = fileURLToPath(new URL('./codes/', import.meta.url));

function main(argv: readonly string[]): void {
  const only = argv.map(Number).filter((x) => Number.isInteger(x));
  mkdirSync(outDir, { recursive: true });
  for (const entry of FAMILY) {
    if (only.length > 0 && !only.includes(entry.id)) continue;
    const t0 = Date.now();
    const rate = 1 - entry.mb / entry.nb;
    const degrees = entry.degrees.filter((d) => d <= entry.mb);
    const design = designByLp(rate, degrees, entry.checkDegrees);
    const built = constructBase({
      id: entry.id, nb: entry.nb, mb: entry.mb, z: entry.z, lambda: design.ensemble.lambda,
      seed: entry.seed, designThreshold: design.threshold, maxPunctureFraction: entry.maxPunctureFraction,
    });
    const code = expandCode(built.spec);
    const punctureOrder = reservedOrder(code, Math.floor(entry.maxPunctureFraction * code.n), entry.seed ^ 0x5bd1e995);
    const bytes = encodeCodeFile({ ...built.spec, punctureOrder });
    writeFileSync(`${outDir}${entry.name}.bin`, bytes);
    const lam = [...design.ensemble.lambda].map(([d, w]) => `${d}:${w.toFixed(3)}`).join(' ');
    const rho = [...design.ensemble.rho].map(([d, w]) => `${d}:${w.toFixed(3)}`).join(' ');
    process.stdout.write(
      `${entry.name}: id ${entry.id} n ${code.n} m ${code.m} R ${rate.toFixed(4)} edges ${code.cols.length} ` +
      `q* ${design.threshold.toFixed(5)} f* ${design.efficiency.toFixed(4)} lambda {${lam}} rho {${rho}} ` +
      `4-cycles ${built.fourCycles} punct ${punctureOrder.length} (${(punctureOrder.length / code.n).toFixed(3)}) ` +
      `${bytes.length} B ${Date.now() - t0} ms\n`,
    );
  }
}

main(process.argv.slice(2));
