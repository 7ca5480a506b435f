/**
 * The conformance cases of the interworking-node model (Y.3818 clauses 8.2 and 9.2): every
 * configuration (Figs 6, 7, 8) × every procedure (Figs 12, 13, 14), each run over real processes
 * by the same scenario code as the end-to-end tests here (scenarios.ts, through cases.ts). The
 * runner (`npm run conformance`) prints one line per case:
 *   {"model":"iwn","configuration":…,"figure":6|7|8,"procedure":…,"procedure_figure":12|13|14,"ok":true,"ms":…,"checks":N}
 */
import type { ConformanceCase } from '../../../host/interworking/conformance/cases.js';
import { runIwnCase } from './cases.js';

const CONFIGURATIONS = [
  { figure: 6, configuration: 'distributed-distributed' },
  { figure: 7, configuration: 'distributed-centralized' },
  { figure: 8, configuration: 'centralized-centralized' },
] as const;

const PROCEDURES = [
  { procedure: 'key-transfer', procedure_figure: 12 },
  { procedure: 'key-generation-control', procedure_figure: 13 },
  { procedure: 'fault-management', procedure_figure: 14 },
] as const;

export const IWN_CONFORMANCE_CASES: readonly ConformanceCase[] = CONFIGURATIONS.flatMap((c) =>
  PROCEDURES.map(
    (p): ConformanceCase => ({
      model: 'iwn',
      ...c,
      ...p,
      run: () => runIwnCase(c.figure, p.procedure),
    }),
  ),
);
