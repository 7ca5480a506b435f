/**
 * What every Kx message definition provides: its type number (one table: messages.ts), how its
 * body maps to CBOR and back with validation, and a test vector (the hex of the whole envelope of
 * `example` sent with request ID 7), checked both ways by kx.test.ts.
 */
export interface KxMessageSpec<N extends string, T> {
  readonly name: N;
  readonly type: number;
  /** Whether the message answers a request (carries `re`) rather than expecting an answer. */
  readonly answer: boolean;
  encode(m: T): Record<string, unknown>;
  decode(body: unknown): T;
  readonly example: T;
  readonly vector: string;
}

/** Limits shared by the message schemas (the frame limit bounds everything else too). */
export const LIMITS = {
  /** Key units in one message (relay, supply, void). */
  units: 8192,
  /** Nodes on a relay route. */
  route: 64,
  /** SAE IDs in a supply (master excluded). */
  slaves: 16,
  /** Bytes of relay ciphertext. */
  ciphertext: 512 * 1024,
  /** Whole frame. */
  frame: 1024 * 1024,
} as const;
