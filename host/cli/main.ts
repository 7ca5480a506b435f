#!/usr/bin/env node
/** `qkdn-edge`: the command line of a trusted node. */
import { Command } from 'commander';

const program = new Command('qkdn-edge')
  .description('Trusted-node runtime for QKD networks (ITU-T Y.3800 series, Y.3818 interworking)')
  .showHelpAfterError();

program
  .command('demo', { isDefault: true })
  .description('run the demo of what qkdn-edge does today (npm start)')
  .option('--blocks <n>', 'post-processing blocks to run', '4')
  .option('--seed <n>', 'seed of the simulated detections', '1')
  .action(async (opts: { blocks: string; seed: string }) => {
    const { runDemo } = await import('./demo.js');
    process.exitCode = await runDemo({ blocks: Number(opts.blocks), seed: Number(opts.seed) });
  });

program
  .command('bench')
  .description('run benchmark suites (all when none is named)')
  .argument('[suites...]', 'suite names')
  .option('--json', 'one JSON object per line')
  .option('--quick', 'small sizes and few runs: a smoke test, not figures')
  .action(async (suites: string[], opts: { json?: boolean; quick?: boolean }) => {
    const { runBench } = await import('./bench.js');
    process.exitCode = await runBench(suites, { json: Boolean(opts.json), quick: Boolean(opts.quick) });
  });

await program.parseAsync(process.argv);
