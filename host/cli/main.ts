#!/usr/bin/env node
/** `qkdn-edge`: the command line of a trusted node. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('qkdn-edge')
  .description('Trusted-node runtime for QKD networks (ITU-T Y.3800 series, Y.3818 interworking)')
  .version(pkg.version, '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('demo', { isDefault: true })
  .description('run the demo (npm start): post-processing, a QKD link on emulated boards, then two providers\' networks interworking (ITU-T Y.3818)')
  .addOption(new Option('--model <model>', 'interworking model: gwn (gateway nodes) or iwn (an interworking node)').choices(['gwn', 'iwn']).default('gwn'))
  .option('--blocks <n>', 'post-processing blocks to run', '1')
  .option('--seed <n>', 'seed of the simulated detections', '1')
  .option('--distance <km>', 'fibre length of the emulated QKD link part', '10')
  .option('--link-blocks <n>', 'blocks of the QKD link part', '2')
  .option('--no-pipeline', 'skip the post-processing part')
  .option('--no-link', 'skip the QKD link part (two modules on emulated boards)')
  .option('--no-interworking', 'skip the interworking part')
  .option('--no-etcd', 'run the centralized controller on its embedded store even when etcd is installed')
  .option('--line', 'also run a line of node processes relaying keys between its two end SAEs')
  .option('--nodes <n>', 'trusted nodes in the line (with --line)', '4')
  .option('--control', 'also run the control layer on its own: a centralized controller routing and rerouting')
  .action(async (opts: { model: 'gwn' | 'iwn'; blocks: string; seed: string; distance: string; linkBlocks: string; pipeline: boolean; link: boolean; interworking: boolean; etcd: boolean; line?: boolean; nodes: string; control?: boolean }) => {
    const t0 = performance.now();
    const summary: string[] = [];
    let ok = true;
    if (opts.pipeline) {
      const { runDemo } = await import('./demo.js');
      const code = await runDemo({ blocks: Number(opts.blocks), seed: Number(opts.seed) });
      ok &&= code === 0;
      summary.push(`post-processing: ${code === 0 ? 'keys identical at both ends of the simulated link' : 'FAILED'}`);
    }
    if (opts.link && ok) {
      const { runLinkDemo } = await import('./link-demo.js');
      const link = await runLinkDemo({ distanceKm: Number(opts.distance), blocks: Number(opts.linkBlocks), seed: Number(opts.seed) });
      ok &&= link.storesAgree && link.totalUnits > 0;
      summary.push(`QKD link: ${link.totalFinalBits.toLocaleString('en-US')} secret bits in ${link.totalUnits.toLocaleString('en-US')} key units, ${link.storesAgree ? 'identical in both stores' : 'THE STORES DISAGREE'}`);
    }
    if (opts.line && ok) {
      const { runNetworkDemo } = await import('../node/demo-network.js');
      const result = await runNetworkDemo({ nodes: Number(opts.nodes) });
      ok &&= result.identical;
      summary.push(`line of ${Number(opts.nodes)} nodes: ${result.identical ? 'relayed keys identical at both SAEs' : 'THE SAEs HOLD DIFFERENT KEYS'}`);
    }
    if (opts.control && ok) {
      const { runControlDemo } = await import('../controller/demo.js');
      const routed = await runControlDemo(process.stdout, opts.etcd ? {} : { etcd: false });
      ok &&= routed;
      summary.push(`control layer: ${routed ? 'routed from stock, rerouted around a link reported OFF' : 'FAILED'}`);
    }
    if (opts.interworking && ok) {
      const { runGwnDemo, runIwnDemo } = await import('./interworking-demo.js');
      const r = await (opts.model === 'iwn' ? runIwnDemo : runGwnDemo)({ etcd: opts.etcd });
      ok &&= r.ok;
      summary.push(`${r.summary}${r.ok ? '' : ' — FAILED'}`);
    }
    process.stdout.write(`
Summary (${((performance.now() - t0) / 1000).toFixed(1)} s)
${summary.map((l) => `  ${l}
`).join('')}`);
    if (!ok) process.exitCode = 1;
  });

const bench = program
  .command('bench')
  .description('run benchmark suites (all when none is named)')
  .argument('[suites...]', 'suite names')
  .option('--json', 'one JSON object per line')
  .option('--quick', 'small sizes and few runs: a smoke test, not figures')
  .action(async (suites: string[], opts: { json?: boolean; quick?: boolean }) => {
    const { runBench } = await import('./bench.js');
    process.exitCode = await runBench(suites, { json: Boolean(opts.json), quick: Boolean(opts.quick) });
  });

program
  .command('conformance')
  .description('run every ITU-T Y.3818 configuration × procedure case over real node processes (npm run conformance)')
  .option('--json', 'one JSON object per line')
  .action(async (opts: { json?: boolean }) => {
    const { runConformance } = await import('./conformance.js');
    process.exitCode = await runConformance({ json: Boolean(opts.json) });
  });

program
  .command('node')
  .description('run one trusted node: key manager, Kx to other nodes, ETSI GS QKD 014 API')
  .requiredOption('--config <file>', 'node configuration (YAML or JSON; see host/node/README.md)')
  .option('--standby', 'load, then wait for a line "start" on stdin before opening the data directory')
  .option('--outlive-parent', 'keep running when the command that started the node ends (by default it stops with it)')
  .action(async (opts: { config: string; standby?: boolean; outliveParent?: boolean }) => {
    const { runNodeCommand } = await import('../node/node.js');
    process.exitCode = await runNodeCommand(opts);
  });

program
  .command('controller')
  .description('run a replica of the centralized QKDN controller (state in etcd, or embedded when there is none)')
  .requiredOption('--config <file>', 'controller configuration (YAML or JSON; see host/controller/README.md)')
  .action(async (opts: { config: string }) => {
    const { runControllerCommand } = await import('../controller/command.js');
    process.exitCode = await runControllerCommand(opts);
  });

program
  .command('manager')
  .description('run the centralized manager of a network: alarms, performance and accounting collected from every node')
  .requiredOption('--config <file>', 'manager configuration (YAML or JSON; see host/manager/README.md)')
  .action(async (opts: { config: string }) => {
    const { runManagerCommand } = await import('../manager/command.js');
    process.exitCode = await runManagerCommand(opts);
  });

program
  .command('pki')
  .description('certificates for a test network: `pki init <dir> --nodes A,B --saes alice,bob`, `pki issue <dir> --sae carol`')
  .argument('<action>', 'init | issue')
  .argument('<dir>', 'directory of the network PKI')
  .option('--nodes <ids>', 'init: node IDs, comma-separated')
  .option('--saes <ids>', 'init: SAE IDs, comma-separated')
  .option('--node <id>', 'issue: one node certificate')
  .option('--sae <id>', 'issue: one SAE certificate')
  .option('--operators <ids>', 'init: management API operator IDs, comma-separated')
  .option('--operator <id>', 'issue: one operator certificate (management API)')
  .option('--network <name>', 'network name in the CA subject')
  .option('--hosts <names>', 'extra DNS names / IPs for node certificates')
  .option('--days <n>', 'certificate validity')
  .action(async (action: string, dir: string, opts: Record<string, string>) => {
    const { runPkiCommand } = await import('../pki/command.js');
    process.exitCode = await runPkiCommand(action, dir, opts);
  });

// The suites are found by loading the *.bench.ts files: only when bench's help is asked for.
const args = process.argv.slice(2);
if ((args[0] === 'bench' && args.some((a) => a === '--help' || a === '-h')) || (args[0] === 'help' && args[1] === 'bench')) {
  const { discoverSuites } = await import('./bench.js');
  const suites = await discoverSuites();
  const width = Math.max(...suites.map((s) => s.name.length));
  bench.addHelpText('after', `\nSuites:\n${suites.map((s) => `  ${s.name.padEnd(width)}  ${s.description}`).join('\n')}\n`);
}

await program.parseAsync(process.argv);
