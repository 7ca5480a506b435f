/**
 * `qkdn-edge pki`: certificates for a test network.
 *   qkdn-edge pki init <dir> --nodes A,B --saes alice,bob [--operators ops] [--network name] [--hosts h1,h2] [--days n]
 *   qkdn-edge pki issue <dir> --node C | --sae carol | --operator ops [--hosts ...] [--days n]
 */
import { initPki, pkiPaths } from './pki.js';

export interface PkiCommandOptions {
  readonly nodes?: string;
  readonly saes?: string;
  readonly node?: string;
  readonly sae?: string;
  readonly operators?: string;
  readonly operator?: string;
  readonly network?: string;
  readonly hosts?: string;
  readonly days?: string;
}

const list = (s?: string) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

export async function runPkiCommand(action: string, dir: string, o: PkiCommandOptions): Promise<number> {
  const days = o.days === undefined ? undefined : Number(o.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
    process.stderr.write('qkdn-edge pki: --days must be a positive integer\n');
    return 2;
  }
  let nodes: string[];
  let saes: string[];
  let operators: string[];
  if (action === 'init') {
    nodes = list(o.nodes);
    saes = list(o.saes);
    operators = list(o.operators);
  } else if (action === 'issue') {
    nodes = list(o.node);
    saes = list(o.sae);
    operators = list(o.operator);
    if (nodes.length + saes.length + operators.length === 0) {
      process.stderr.write('qkdn-edge pki issue: name a --node, an --sae or an --operator\n');
      return 2;
    }
  } else {
    process.stderr.write(`qkdn-edge pki: unknown action ${action} (init, issue)\n`);
    return 2;
  }
  try {
    const paths = await initPki(dir, { network: o.network, nodes, saes, operators, hosts: list(o.hosts), days });
    process.stdout.write(`CA          ${paths.ca}\n`);
    for (const n of nodes) process.stdout.write(`node ${n.padEnd(6)} ${paths.cert('KME', n)}  ${paths.key('KME', n)}\n`);
    for (const s of saes) process.stdout.write(`SAE  ${s.padEnd(6)} ${paths.cert('SAE', s)}  ${paths.key('SAE', s)}\n`);
    for (const s of operators) process.stdout.write(`operator ${s.padEnd(6)} ${paths.cert('OPERATOR', s)}  ${paths.key('OPERATOR', s)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`qkdn-edge pki: ${(e as Error).message}\n`);
    return 1;
  }
}

export { pkiPaths };
