/**
 * The conformance cases of Y.3818 clause 9 (`npm run conformance`): one per configuration of
 * clause 8 × procedure of clause 9, for each interworking model (gateway nodes, clause 8.1/9.1;
 * interworking node, clause 8.2/9.2). A case runs the same scenario code as the procedure's
 * end-to-end test (hil-tests/interworking/), over real node processes, and resolves with the
 * number of real checks it made; any failed check rejects. The IWN cases live beside the IWN
 * (hil-tests/interworking/iwn/conformance-cases.ts, beside the GWN cases) in this same shape.
 */
export type ConformanceModel = 'gwn' | 'iwn';
export type ConformanceConfiguration = 'distributed-distributed' | 'distributed-centralized' | 'centralized-centralized';

export interface ConformanceCase {
  readonly model: ConformanceModel;
  readonly configuration: ConformanceConfiguration;
  /** The figure of the configuration: GWN 3, 4, 5; IWN 6, 7, 8. */
  readonly figure: number;
  /** key-relay, key-generation-rerouting, fault-management (GWN); key-transfer, ... (IWN). */
  readonly procedure: string;
  /** The figure of the procedure: GWN 9, 10, 11; IWN 12, 13, 14. */
  readonly procedure_figure: number;
  run(): Promise<{ checks: number }>;
}

/** Counts checks as a scenario makes them; a failed one throws with what was expected. */
export class Checks {
  #n = 0;

  get count(): number {
    return this.#n;
  }

  that(ok: boolean, what: string): void {
    this.#n++;
    if (!ok) throw new ConformanceCheckError(what);
  }

  equal<T>(actual: T, expected: T, what: string): void {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    this.#n++;
    if (a !== e) throw new ConformanceCheckError(`${what}: expected ${e}, got ${a}`);
  }
}

export class ConformanceCheckError extends Error {
  readonly code = 'ERR_IW_CONFORMANCE';
  constructor(what: string) {
    super(`check failed: ${what}`);
    this.name = 'ConformanceCheckError';
  }
}
