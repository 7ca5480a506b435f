import { randomFillSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite, BenchRecord } from '../../bench/benchmark.js';
import { timeRuns, mbps, round } from '../../bench/benchmark.js';
import { PrivacyAmplifier, toeplitzTwin, planToeplitz } from './pa.js';

const harnessSource = fileURLToPath(new URL('./reference/pa_fftw.c', import.meta.url));

/** Compiles the FFTW baseline; undefined (with the reason) when gcc or FFTW is missing. */
function buildHarness(dir: string): { exe?: string; reason?: string } {
  const exe = join(dir, 'pa_fftw');
  try {
    execFileSync('gcc', ['-O2', '-o', exe, harnessSource, '-lfftw3', '-lm'], { stdio: 'pipe' });
    return { exe };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { reason: `gcc + libfftw3-dev unavailable (${msg})` };
  }
}

interface HarnessResult {
  mbps: number;
  digest: string;
}

function runHarness(exe: string, n: number, m: number, runs: number, checkSeed: number): HarnessResult {
  const out = execFileSync(exe, [String(n), String(m), String(runs), String(checkSeed)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as HarnessResult;
}

/** The harness's check input: xorshift32 words, seed bits first, then input bits. */
function harnessInputs(n: number, m: number, checkSeed: number): { seed: Uint8Array; x: Uint8Array } {
  let s = checkSeed >>> 0;
  const draw = (bits: number): Uint8Array => {
    const words = new Uint32Array(Math.ceil(bits / 32));
    for (let i = 0; i < words.length; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      words[i] = s;
    }
    if (bits & 31) words[words.length - 1]! &= (1 << (bits & 31)) - 1;
    return new Uint8Array(words.buffer, 0, Math.ceil(bits / 8)).slice();
  };
  const seed = draw(n + m - 1);
  const x = draw(n);
  return { seed, x };
}

function fnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

export const suite: BenchSuite = {
  name: 'pa',
  description: 'Toeplitz privacy amplification, m = n/2, fresh seed per run (WASM vs TypeScript twin vs FFTW in C)',
  *run(ctx): Iterable<BenchRecord> {
    const sizes = ctx.quick ? [1 << 14] : [1 << 20, 1 << 24];
    const dir = mkdtempSync(join(tmpdir(), 'qkdn-pa-bench-'));
    try {
      const harness = buildHarness(dir);
      const pa = new PrivacyAmplifier();
      for (const n of sizes) {
        const m = n / 2;
        const big = n > 1 << 20;
        const runs = ctx.quick ? 3 : big ? 5 : 9;
        const plan = planToeplitz(n, m);
        ctx.progress(`pa n = ${n}, m = ${m}, K = ${plan.K}, L = ${plan.L}, ${pa.target}`);
        // A fresh seed and block for every run (drawn before timing; the FFTW harness does the same).
        const inputs = Array.from({ length: runs + 1 }, () => ({
          seed: randomFillSync(new Uint8Array(Math.ceil((n + m - 1) / 8))),
          x: randomFillSync(new Uint8Array(n / 8)),
        }));
        let r = 0;
        const t = timeRuns(() => {
          const { seed, x } = inputs[r++ % inputs.length]!;
          pa.hash(seed, x, n, m);
        }, runs);
        ctx.progress('TypeScript twin');
        let rr = 0;
        const tr = timeRuns(() => {
          const { seed, x } = inputs[rr++ % inputs.length]!;
          toeplitzTwin(seed, x, n, m);
        }, ctx.quick || big ? 1 : 3, big ? 0 : 1);
        const record: BenchRecord = {
          suite: 'pa',
          target: pa.target,
          n,
          m,
          K: plan.K,
          L: plan.L,
          mbps: mbps(n, t),
          ref_mbps: mbps(n, tr),
          ref: 'TypeScript twin of the same ternary-FFT algorithm (32-bit words)',
          speedup: round(mbps(n, t) / mbps(n, tr), 2),
        };
        if (harness.exe) {
          ctx.progress('FFTW harness');
          const checkSeed = 12345;
          const h = runHarness(harness.exe, n, m, runs, checkSeed);
          const { seed, x } = harnessInputs(n, m, checkSeed);
          record.fftw_mbps = h.mbps;
          record.fftw_ratio = round(record.mbps as number / h.mbps, 2);
          record.fftw_agrees = fnv1a64(pa.hash(seed, x, n, m)) === h.digest;
          record.fftw = 'FFTW 3 double r2c/c2r, FFTW_ESTIMATE, length 2^ceil(log2(n+m-1)), plan outside timing';
        } else {
          record.fftw_mbps = null;
          record.fftw = `absent: ${harness.reason ?? 'unknown'}`;
        }
        yield record;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
