/**
 * The interworking message set, version 1: one table of type numbers for the four Y.3818
 * reference points, the envelope and the framing.
 *
 * Frame on the TLS stream:   | length: uint32 big-endian | payload: `length` bytes |
 * Payload (CBOR, RFC 8949):  [ version: uint = 1, type: uint, id: uint, ctx: 0 | 1, body: map ]
 *
 * `ctx` says where the message runs: 0 across a border between two gateway nodes (Kxi-1, Kxi-2,
 * Cxi, Mxi; clause 6.1), 1 inside an interworking node (the primed Kxi-1', Kxi-2', Cxi', Mxi';
 * clause 6.2). The messages are the same; an endpoint refuses a ctx it is not configured for.
 * `id` numbers the requests a connection end sends; an answer names its request in `re`.
 * Decoding is strict: the CBOR structure within BORDER_CBOR_LIMITS first, then the envelope, the version,
 * the type and the body's schema; any failure is a typed IwError and the frame is dropped.
 *
 * | type | message                            | ref. point | answered by                        |
 * |------|------------------------------------|------------|------------------------------------|
 * | 0x10 | Kxi1Hello                          | Kxi-1      | Kxi1Hello (re)                     |
 * | 0x11 | Kxi1KeyRelay                       | Kxi-1      | Kxi1Ack                            |
 * | 0x12 | Kxi1KeySync                        | Kxi-1      | Kxi1KeySync (re)                   |
 * | 0x13 | Kxi1Ack                            | Kxi-1      | (answer)                           |
 * | 0x14 | Kxi1RelayCompletion                | Kxi-1      | Kxi1Ack                            |
 * | 0x15 | Kxi1Void                           | Kxi-1      | Kxi1Ack                            |
 * | 0x16 | Kxi1KeyLedger                      | Kxi-1      | Kxi1KeyLedger (re)                 |
 * | 0x20 | Kxi2KeySupplyNotification          | Kxi-2      | Kxi2KeySupplyNotificationResponse  |
 * | 0x21 | Kxi2KeySupplyNotificationResponse  | Kxi-2      | (answer)                           |
 * | 0x30 | CxiHello                           | Cxi        | CxiHello (re)                      |
 * | 0x31 | CxiTopologySummary                 | Cxi        | -                                  |
 * | 0x32 | CxiRouteRequest                    | Cxi        | CxiRouteResponse                   |
 * | 0x33 | CxiRouteResponse                   | Cxi        | (answer)                           |
 * | 0x34 | CxiStatus                          | Cxi        | -                                  |
 * | 0x35 | CxiReroutePropose                  | Cxi        | CxiRerouteVote                     |
 * | 0x36 | CxiRerouteVote                     | Cxi        | CxiRerouteCommit / CxiRerouteAbort |
 * | 0x37 | CxiRerouteCommit                   | Cxi        | -                                  |
 * | 0x38 | CxiRerouteAbort                    | Cxi        | -                                  |
 * | 0x40 | MxiFault                           | Mxi        | MxiDiagnosis                       |
 * | 0x41 | MxiDiagnosis                       | Mxi        | -                                  |
 * | 0x42 | MxiDecision                        | Mxi        | -                                  |
 * | 0x43 | MxiPerformanceBundle               | Mxi        | -                                  |
 * | 0x44 | MxiSecurityReport                  | Mxi        | -                                  |
 * | 0x45 | MxiAccounting                      | Mxi        | -                                  |
 * | 0x4f | MxiSealed (carries any other Mxi)  | Mxi        | -                                  |
 * | 0x50 | CkTransferRequirement              | Ck         | CkTransferDecision                 |
 * | 0x51 | CkTransferDecision                 | Ck         | (answer)                           |
 * | 0x52 | CkKmStatus                         | Ck         | -                                  |
 * | 0x53 | CkLifecycle                        | Ck         | -                                  |
 * | 0x54 | CkFault                            | Ck         | -                                  |
 * | 0x55 | CkTransferReport                   | Ck         | -                                  |
 */
import { decodeCbor, encodeCbor, type CborLimits, type CborValue } from '../../firmware-bridge/protocol/cbor.js';
import { IwError, IwLimitError } from './errors.js';
import type { IwMessageSpec, ReferencePoint } from './spec.js';
import { Kxi1HelloSpec } from './kxi-1/hello.js';
import { Kxi1KeyRelaySpec } from './kxi-1/key-relay.js';
import { Kxi1KeySyncSpec } from './kxi-1/key-sync.js';
import { Kxi1AckSpec } from './kxi-1/ack.js';
import { Kxi1RelayCompletionSpec } from './kxi-1/relay-completion.js';
import { Kxi1VoidSpec } from './kxi-1/void.js';
import { Kxi1KeyLedgerSpec } from './kxi-1/key-ledger.js';
import { Kxi2KeySupplyNotificationSpec } from './kxi-2/key-supply-notification.js';
import { Kxi2KeySupplyNotificationResponseSpec } from './kxi-2/key-supply-notification-response.js';
import { CxiHelloSpec } from './cxi/hello.js';
import { CxiTopologySummarySpec } from './cxi/topology-summary.js';
import { CxiRouteRequestSpec } from './cxi/route-request.js';
import { CxiRouteResponseSpec } from './cxi/route-response.js';
import { CxiStatusSpec } from './cxi/status.js';
import { CxiRerouteProposeSpec } from './cxi/reroute-propose.js';
import { CxiRerouteVoteSpec } from './cxi/reroute-vote.js';
import { CxiRerouteCommitSpec } from './cxi/reroute-commit.js';
import { CxiRerouteAbortSpec } from './cxi/reroute-abort.js';
import { MxiFaultSpec } from './mxi/fault.js';
import { MxiDiagnosisSpec } from './mxi/diagnosis.js';
import { MxiDecisionSpec } from './mxi/decision.js';
import { MxiPerformanceBundleSpec } from './mxi/performance-bundle.js';
import { MxiSecurityReportSpec } from './mxi/security-report.js';
import { MxiAccountingSpec } from './mxi/accounting.js';
import { MxiSealedSpec } from './mxi/sealed.js';
import { CkTransferRequirementSpec } from './ck/transfer-requirement.js';
import { CkTransferDecisionSpec } from './ck/transfer-decision.js';
import { CkKmStatusSpec } from './ck/km-status.js';
import { CkLifecycleSpec } from './ck/lifecycle.js';
import { CkFaultSpec } from './ck/fault.js';
import { CkTransferReportSpec } from './ck/transfer-report.js';

export const IW_VERSION = 1;

/** Bytes of one border payload. */
export const BORDER_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Limits of the structural check every payload from a peer passes before cbor-x builds anything
 * (the board protocol's checker, firmware-bridge/protocol/cbor.ts: depth, entries per container,
 * string length, items in all, text map keys, valid UTF-8, no tags or indefinite lengths; cbor-x's
 * own limits are process-wide). Wider than a board's: a relay carries up to 4096 key IDs and
 * 512 KiB of ciphertext.
 */
export const BORDER_CBOR_LIMITS: CborLimits = {
  maxDepth: 8,
  maxItems: 8192,
  maxStringLength: 512 * 1024,
  maxTotalItems: 65536,
};

export const MESSAGE_SPECS = [
  Kxi1HelloSpec,
  Kxi1KeyRelaySpec,
  Kxi1KeySyncSpec,
  Kxi1AckSpec,
  Kxi1RelayCompletionSpec,
  Kxi1VoidSpec,
  Kxi1KeyLedgerSpec,
  Kxi2KeySupplyNotificationSpec,
  Kxi2KeySupplyNotificationResponseSpec,
  CxiHelloSpec,
  CxiTopologySummarySpec,
  CxiRouteRequestSpec,
  CxiRouteResponseSpec,
  CxiStatusSpec,
  CxiRerouteProposeSpec,
  CxiRerouteVoteSpec,
  CxiRerouteCommitSpec,
  CxiRerouteAbortSpec,
  MxiFaultSpec,
  MxiDiagnosisSpec,
  MxiDecisionSpec,
  MxiPerformanceBundleSpec,
  MxiSecurityReportSpec,
  MxiAccountingSpec,
  MxiSealedSpec,
  CkTransferRequirementSpec,
  CkTransferDecisionSpec,
  CkKmStatusSpec,
  CkLifecycleSpec,
  CkFaultSpec,
  CkTransferReportSpec,
] as const;

type Spec = (typeof MESSAGE_SPECS)[number];
type BodyOf<S> = S extends IwMessageSpec<string, infer T> ? T : never;
export type IwMessageName = Spec['name'];
export type IwBody<N extends IwMessageName> = BodyOf<Extract<Spec, { name: N }>>;

/** Where a message runs: across a border between GWNs, or inside an IWN (the primed reference points). */
export type IwContext = 'border' | 'iwn';

export type IwMessage = {
  [N in IwMessageName]: { readonly name: N; readonly rp: ReferencePoint; readonly ctx: IwContext; readonly id: number; readonly body: IwBody<N> };
}[IwMessageName];

/** The reference point's name as Y.3818 writes it: Kxi-1 across a border, Kxi-1' inside an IWN. */
export function referencePointLabel(rp: ReferencePoint, ctx: IwContext): string {
  return ctx === 'iwn' ? `${rp}'` : rp;
}

const byType = new Map<number, Spec>(MESSAGE_SPECS.map((s) => [s.type, s]));
const byName = new Map<string, Spec>(MESSAGE_SPECS.map((s) => [s.name, s]));

/**
 * The encoding (the board protocol's, firmware-bridge/protocol/cbor.ts) writes every integer in its
 * shortest integer form, so times in epoch milliseconds are uint64 on the wire; cbor-x reads those
 * back as BigInt, which become numbers again when safe.
 */
function intsFromCbor(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(intsFromCbor);
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, intsFromCbor(x)]));
  return v;
}

export function specOf<N extends IwMessageName>(name: N): IwMessageSpec<N, IwBody<N>> {
  const s = byName.get(name);
  if (!s) throw new IwError('ERR_IW_UNKNOWN_TYPE', `no interworking message ${name}`);
  return s as unknown as IwMessageSpec<N, IwBody<N>>;
}

/** The wire form of a body: what the border filter inspects and what the encoder writes. */
export function wireBody<N extends IwMessageName>(name: N, body: IwBody<N>): Record<string, unknown> {
  return specOf(name).encode(body);
}

/** The border's CBOR encoding of any value (digests are taken over it, so it must be canonical). */
export function canonicalCbor(value: unknown): Buffer {
  const b = encodeCbor(value as CborValue);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The CBOR payload of a message (no length prefix). */
export function encodePayload<N extends IwMessageName>(name: N, id: number, body: IwBody<N>, ctx: IwContext = 'border'): Buffer {
  const spec = specOf(name);
  const payload = canonicalCbor([IW_VERSION, spec.type, id, ctx === 'iwn' ? 1 : 0, spec.encode(body)]);
  if (payload.length > BORDER_PAYLOAD_BYTES) throw new IwLimitError('bytes', `${name}: ${payload.length} bytes exceeds the ${BORDER_PAYLOAD_BYTES}-byte frame limit`);
  return payload;
}

export function decodePayload(payload: Uint8Array): IwMessage {
  if (payload.length > BORDER_PAYLOAD_BYTES) throw new IwLimitError('bytes', `payload of ${payload.length} bytes exceeds ${BORDER_PAYLOAD_BYTES}`);
  // the structure is checked against the border limits before cbor-x builds anything
  const r = decodeCbor(payload, BORDER_CBOR_LIMITS);
  if (!r.ok) throw new IwLimitError('structure', `CBOR: ${r.reason}`);
  const v = r.value;
  if (!Array.isArray(v) || v.length !== 5) throw new IwError('ERR_IW_DECODE', 'envelope: expected [version, type, id, ctx, body]');
  const [version, type, id, ctx, body] = v as [unknown, unknown, unknown, unknown, unknown];
  if (version !== IW_VERSION) throw new IwError('ERR_IW_VERSION', `envelope: version ${String(version)}, this node speaks ${IW_VERSION}`);
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new IwError('ERR_IW_DECODE', 'envelope: id must be an unsigned integer');
  if (ctx !== 0 && ctx !== 1) throw new IwError('ERR_IW_DECODE', 'envelope: ctx must be 0 (border) or 1 (IWN)');
  const spec = typeof type === 'number' ? byType.get(type) : undefined;
  if (!spec) throw new IwError('ERR_IW_UNKNOWN_TYPE', `envelope: unknown message type ${String(type)}`);
  return { name: spec.name, rp: spec.rp, ctx: ctx === 1 ? 'iwn' : 'border', id, body: spec.decode(intsFromCbor(body)) } as IwMessage;
}

/** A whole frame: length prefix and payload. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** Splits a TLS byte stream into payloads; refuses a frame over the limit before buffering it. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  readonly #max: number;

  constructor(max = BORDER_PAYLOAD_BYTES) {
    this.#max = max;
  }

  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (this.#buf.length >= 4) {
      const len = this.#buf.readUInt32BE(0);
      if (len > this.#max) throw new IwLimitError('bytes', `frame of ${len} bytes announced; limit ${this.#max}`);
      if (this.#buf.length < 4 + len) break;
      out.push(this.#buf.subarray(4, 4 + len));
      this.#buf = this.#buf.subarray(4 + len);
    }
    return out;
  }
}
