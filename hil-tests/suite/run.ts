/**
 * The runner `npm test` uses: uvu's test files in one process, as `uvu` runs them, closed by a
 * summary that names every test that failed or was skipped (uvu counts skipped tests without
 * naming them, never prints a failed count, and treats a throwing `before` hook as a pass with
 * fewer tests run).
 *
 *   node --import tsx hil-tests/suite/run.ts [dir] [pattern] [-i ignore]...
 *
 * The closing lines keep uvu's `Total:`, `Passed:` and `Skipped:` (.ci/run reads them) and add
 * `Failed:`. Exit status 1 when anything failed, including a file that did not load and a hook
 * that threw.
 */
import { pathToFileURL } from 'node:url';
import { parse } from 'uvu/parse';
import type { Test } from 'uvu';

interface Args {
  dir: string;
  pattern: string | undefined;
  ignore: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const ignore: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-i' || a === '--ignore') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a pattern`);
      ignore.push(v);
    } else positional.push(a);
  }
  return { dir: positional[0] ?? '.', pattern: positional[1], ignore };
}

type Run = () => Promise<[errors: string | true, passed: number, skipped: number, total: number]>;
type Group = [name: string, ...runs: Run[]];

declare global {
  var UVU_DEFER: number | undefined;
  var UVU_INDEX: number | undefined;
  var UVU_QUEUE: Group[];
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex

/** The test names in uvu's formatted failures: `  FAIL  [suite]  "name"`. */
function failedNames(errors: string): string[] {
  const names: string[] = [];
  for (const line of plain(errors).split('\n')) {
    const m = /^ {2} FAIL .*?"(.*)"\s*$/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { suites } = await parse(args.dir, args.pattern, { ignore: args.ignore });
  // Before uvu loads: it then queues each file's tests instead of running them at once.
  globalThis.UVU_DEFER = 1;
  const { test } = (await import('uvu')) as { test: Test };

  let file = '';
  const skipped: string[] = [];
  const failed: string[] = [];
  const hookErrors = new Map<string, string>();

  // Skips and hooks are registered while a file loads, so `file` names the file they belong to.
  const skip = test.skip;
  test.skip = (name?: string) => {
    skipped.push(`${file} > ${name ?? '(unnamed)'}`);
    skip();
  };
  for (const kind of ['before', 'after'] as const) {
    const register = test[kind];
    const each = register.each;
    test[kind] = Object.assign(
      (hook: Parameters<typeof register>[0]) => {
        const owner = file;
        register(async (ctx) => {
          try {
            await hook(ctx);
          } catch (e) {
            hookErrors.set(owner, `${kind} hook: ${(e as Error)?.message ?? String(e)}`);
            throw e;
          }
        });
      },
      { each },
    );
  }

  const started = performance.now();
  globalThis.UVU_QUEUE = [];
  for (const [i, s] of suites.entries()) {
    file = s.name;
    globalThis.UVU_INDEX = i;
    globalThis.UVU_QUEUE.push([s.name]);
    try {
      await import(pathToFileURL(s.file).href);
    } catch (e) {
      failed.push(`${s.name} > (the file did not load: ${(e as Error)?.message ?? String(e)})`);
      process.stdout.write(`\n${s.name}\n  did not load: ${(e as Error)?.stack ?? String(e)}\n`);
    }
  }

  let total = 0;
  let passed = 0;
  let skips = 0;
  let failures = failed.length; // the files that did not load
  for (const [name, ...runs] of globalThis.UVU_QUEUE) {
    process.stdout.write(`\n${name}\n`);
    for (const run of runs) {
      let result: Awaited<ReturnType<Run>>;
      try {
        result = await run();
      } catch (e) {
        // An `after` hook threw: uvu lets it escape the file's run.
        process.stdout.write(`\n  ${name}: ${(e as Error)?.stack ?? String(e)}\n`);
        failed.push(`${name} > (${hookErrors.get(name) ?? `after hook: ${(e as Error)?.message ?? String(e)}`})`);
        failures++;
        continue;
      }
      const [errors, ok, skip, max] = result;
      total += max;
      passed += ok;
      skips += skip;
      failures += max - ok;
      const named = errors === true ? [] : failedNames(errors);
      if (errors !== true) process.stdout.write(`\n${errors}\n`);
      for (const n of named) failed.push(`${name} > ${n}`);
      // Tests that neither passed nor failed by name did not run: a `before` hook threw.
      const unrun = max - ok - named.length;
      if (unrun > 0) failed.push(`${name} > (${unrun} test(s) did not run: ${hookErrors.get(name) ?? 'a hook failed'})`);
    }
  }

  const out: string[] = [];
  out.push(`\n  Total:     ${total}`, `  Passed:    ${passed}`, `  Failed:    ${failures}`);
  out.push(`  Skipped:   ${skips}`, `  Duration:  ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (failed.length > 0) out.push('', `  Failed (${failed.length}):`, ...failed.map((f) => `    ${f}`));
  if (skipped.length > 0) out.push('', `  Skipped (${skipped.length}):`, ...skipped.map((f) => `    ${f}`));
  process.stdout.write(`${out.join('\n')}\n\n`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`hil-tests/suite/run: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
});
