/**
 * The GWN's conformance cases as the runner finds them: nine, Figs 3, 4, 5 × Figs 9, 10, 11, in
 * the order `npm run conformance` prints them (each one's run is the scenario key-relay.test.ts
 * runs, so it is not run again here).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { discoverCases } from '../../../host/cli/conformance.js';
import { cases } from './conformance-cases.js';

test('nine cases: Figs 3, 4, 5 × key relay (9), key generation and rerouting (10), fault management (11)', () => {
  assert.equal(
    cases.map((c) => [c.configuration, c.figure, c.procedure, c.procedure_figure]).sort(),
    (
      [
        ['distributed-distributed', 3],
        ['distributed-centralized', 4],
        ['centralized-centralized', 5],
      ] as const
    )
      .flatMap(([cfg, f]) => [
        [cfg, f, 'key-relay', 9],
        [cfg, f, 'key-generation-rerouting', 10],
        [cfg, f, 'fault-management', 11],
      ])
      .sort(),
  );
  assert.ok(cases.every((c) => c.model === 'gwn'));
});

test('the runner lists them per configuration, procedures in figure order (9 before 10)', async () => {
  const gwn = (await discoverCases()).filter((c) => c.model === 'gwn');
  assert.equal(
    gwn.map((c) => `${c.figure}/${c.procedure_figure}`),
    ['3/9', '3/10', '3/11', '4/9', '4/10', '4/11', '5/9', '5/10', '5/11'],
  );
});

test.run();
