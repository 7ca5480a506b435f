/**
 * The IWN's conformance cases as a runner prints them: one case, Fig 6 × Fig 12, run through its
 * `run()` (the others run in iwn.test.ts through the same scenarios), and the table of cases.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IWN_CONFORMANCE_CASES } from './conformance-cases.js';

test('nine cases: Figs 6, 7, 8 × Figs 12, 13, 14', () => {
  assert.is(IWN_CONFORMANCE_CASES.length, 9);
  const keys = new Set(IWN_CONFORMANCE_CASES.map((c) => `${c.figure}/${c.procedure_figure}`));
  for (const f of [6, 7, 8]) for (const p of [12, 13, 14]) assert.ok(keys.has(`${f}/${p}`), `${f} × ${p}`);
  assert.ok(IWN_CONFORMANCE_CASES.every((c) => c.model === 'iwn'));
});

test('a case runs its scenario and counts real checks', async () => {
  const c = IWN_CONFORMANCE_CASES.find((x) => x.figure === 6 && x.procedure_figure === 12)!;
  const t0 = performance.now();
  const { checks } = await c.run();
  const line = { model: c.model, configuration: c.configuration, figure: c.figure, procedure: c.procedure, procedure_figure: c.procedure_figure, ok: true, ms: Math.round(performance.now() - t0), checks };
  console.log(JSON.stringify(line));
  assert.ok(checks >= 12, `${checks} checks`);
});

test.run();
