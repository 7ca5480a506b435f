/**
 * The gateway-node conformance cases (`npm run conformance`): each runs a procedure's scenario
 * (scenarios.ts, the same code as the end-to-end tests here) on freshly started networks of one
 * configuration, and stops them whatever happens.
 */
import { Checks, type ConformanceCase } from '../../../host/interworking/conformance/cases.js';
import { keyRelay, startTwoProviders, type Form, type TwoProviders } from './scenarios.js';
import { faultManagement, keyGenerationRerouting } from './rerouting-faults.js';

const CONFIGURATIONS = [
  { configuration: 'distributed-distributed', figure: 3, a: 'distributed', b: 'distributed' },
  { configuration: 'distributed-centralized', figure: 4, a: 'distributed', b: 'centralized' },
  { configuration: 'centralized-centralized', figure: 5, a: 'centralized', b: 'centralized' },
] as const satisfies readonly {
  configuration: ConformanceCase['configuration'];
  figure: number;
  a: Form;
  b: Form;
}[];

async function withProviders(a: Form, b: Form, f: (two: TwoProviders, c: Checks) => Promise<unknown>, squareA = false): Promise<{ checks: number }> {
  const two = await startTwoProviders({ a, b, squareA });
  const c = new Checks();
  try {
    await f(two, c);
  } finally {
    await two.stop();
  }
  return { checks: c.count };
}

export const cases: readonly ConformanceCase[] = CONFIGURATIONS.flatMap((cfg) => [
  {
    model: 'gwn' as const,
    configuration: cfg.configuration,
    figure: cfg.figure,
    procedure: 'key-relay',
    procedure_figure: 9,
    run: () => withProviders(cfg.a, cfg.b, (two, c) => keyRelay(two, c)),
  },
  {
    model: 'gwn' as const,
    configuration: cfg.configuration,
    figure: cfg.figure,
    procedure: 'key-generation-rerouting',
    procedure_figure: 10,
    // A's square gives alice's relays a second internal leg to its gateway
    run: () => withProviders(cfg.a, cfg.b, (two, c) => keyGenerationRerouting(two, c), true),
  },
  {
    model: 'gwn' as const,
    configuration: cfg.configuration,
    figure: cfg.figure,
    procedure: 'fault-management',
    procedure_figure: 11,
    run: () => withProviders(cfg.a, cfg.b, (two, c) => faultManagement(two, c)),
  },
]);
