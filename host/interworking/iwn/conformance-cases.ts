/**
 * The conformance cases of the interworking-node model (Y.3818 clauses 8.2 and 9.2): every
 * configuration (Figs 6, 7, 8) × every procedure (Figs 12, 13, 14), each run over real processes
 * by the same scenario code as the end-to-end tests (hil-tests/interworking/iwn/scenarios.ts),
 * loaded only when a case runs. A runner prints one line per case:
 *   {"model":"iwn","configuration":…,"figure":6|7|8,"procedure":…,"procedure_figure":12|13|14,"ok":true,"ms":…,"checks":N}
 *
 * ConformanceCase is the shape of the gateway model's cases (host/interworking/conformance/
 * cases.ts); it is declared here too until both are on one branch.
 */
export interface ConformanceCase {
  readonly model: 'gwn' | 'iwn';
  readonly configuration: 'distributed-distributed' | 'distributed-centralized' | 'centralized-centralized';
  readonly figure: number;
  readonly procedure: string;
  readonly procedure_figure: number;
  run(): Promise<{ checks: number }>;
}

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

// The scenarios start node processes: a test fixture, imported when a case runs, never by the IWN itself.
const SCENARIOS = '../../../hil-tests/interworking/iwn/cases.js';

export const IWN_CONFORMANCE_CASES: readonly ConformanceCase[] = CONFIGURATIONS.flatMap((c) =>
  PROCEDURES.map(
    (p): ConformanceCase => ({
      model: 'iwn',
      ...c,
      ...p,
      run: async () => {
        const { runIwnCase } = (await import(SCENARIOS)) as typeof import('../../../hil-tests/interworking/iwn/cases.js');
        return runIwnCase(c.figure, p.procedure);
      },
    }),
  ),
);
