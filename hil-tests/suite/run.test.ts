import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the test summary names every failed and skipped test, counts failures, and fails the run', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'hil-tests/suite/run.ts', 'hil-tests/suite/fixtures', '\\.fixture\\.ts$'], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 120_000 });
  assert.is(r.status, 1, r.stderr);
  const summary = r.stdout.slice(r.stdout.lastIndexOf('Total:'));
  // uvu's closing lines, which .ci/run reads, plus the failed count uvu never prints.
  assert.match(summary, /Total: +5\n +Passed: +2\n +Failed: +4\n +Skipped: +1\n/);
  const failed = summary.slice(summary.indexOf('Failed ('), summary.indexOf('Skipped ('));
  assert.match(failed, 'failing.fixture.ts > a "quoted" failure');
  assert.match(failed, 'hook.fixture.ts > (2 test(s) did not run: before hook: no etcd)');
  assert.match(failed, 'load.fixture.ts > (the file did not load: broken at load)');
  assert.not.match(failed, 'passes');
  assert.match(summary.slice(summary.indexOf('Skipped (')), 'passing.fixture.ts > needs a board (QKD_BOARD_A)');
});

test('a run where everything passes exits 0 and lists no failures', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'hil-tests/suite/run.ts', 'hil-tests/suite/fixtures', 'passing\\.fixture\\.ts$'], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 120_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Failed: +0\n/);
  assert.not.match(r.stdout, 'Failed (');
});

test.run();
