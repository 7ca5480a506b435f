/**
 * The gateway's Kxi-1 hop (Y.3818 clause 7.1 key relay function; Kxi-1' in an IWN): a
 * RelayHopHandler (host/km/relay-hop.ts) that the gateway KM registers for its peer GWN, so that
 * the hop of a relay which crosses the border goes out as Kxi1KeyRelay instead of Kx KeyRelay.
 *
 * The key manager has already padded the keys with units of the Qx link (the Qx link is a link of
 * the gateway KM like any other) and hands over the hop with `pads` and `ct`; this handler keeps
 * the relay's route inside the network (only the relay's SAEs, key IDs, pad unit IDs and the
 * ciphertext cross), checks the pads against the GWN pair's sessions (a Qx unit pads one relay),
 * passes the border filter, and maps the peer's Kxi1Ack (ETSI GS QKD 020 statuses) onto the key
 * manager's hop outcome. A first hop that starts at the gateway itself (no ciphertext yet) is
 * refused: the relay must be padded before it crosses. The pads are taken in the sessions before
 * sending; if the message then does not leave (a border filter refusal), they stay used here and
 * Kxi1KeySync later drops them at the peer too: a unit may be lost, never used twice.
 */
import type { HopOutcome, RelayHopHandler } from '../../km/relay-hop.js';
import type { KeyRelay } from '../../km/kx/key-relay.js';
import type { KxErrorStatus } from '../../km/kx/status.js';
import { BorderLeakError, IwError } from '../errors.js';
import type { BorderConnection } from '../border/endpoint.js';
import type { IwStatus } from '../status.js';
import type { Kxi1KeyRelay } from './key-relay.js';
import type { Kxi1Sessions } from './session.js';

/** What the border hop must know of a relay that the Kx hop does not carry. */
export interface RelayContext {
  readonly initiator: string;
  readonly targets: readonly string[];
  readonly deadline: number;
  readonly attempt: number;
}

export interface Kxi1RelayHopOptions {
  readonly qx: string;
  readonly sessions: Kxi1Sessions;
  /** The current connection to the peer GWN, or null while there is none. */
  readonly connection: () => BorderConnection | null;
  readonly context: (relay: string) => RelayContext | undefined;
}

/** The key manager's status for each interworking status of the peer's answer. */
export const KX_STATUS_OF: Readonly<Record<Exclude<IwStatus, 'ok'>, KxErrorStatus>> = {
  no_known_route: 'ERR_KM_NO_ROUTE',
  invalid_routing: 'ERR_KM_NO_ROUTE',
  target_sae_id_not_recognized: 'ERR_KM_NO_ROUTE',
  insufficient_key_material: 'ERR_KM_INSUFFICIENT_KEYS',
  key_not_present: 'ERR_KM_KEY_UNKNOWN',
  missing_parameters: 'ERR_KX_DECODE',
  unauthorized: 'ERR_KM_NOT_PERMITTED',
  timeout: 'ERR_KM_TIMEOUT',
  server_side_general_error: 'ERR_KM_INTERNAL',
};

export class Kxi1RelayHop implements RelayHopHandler {
  readonly #o: Kxi1RelayHopOptions;

  constructor(o: Kxi1RelayHopOptions) {
    this.#o = o;
  }

  async send(_next: string, hop: KeyRelay, timeoutMs: number): Promise<HopOutcome> {
    const refuse = (status: KxErrorStatus, reason: string): HopOutcome => ({ ok: false, status, reason, answered: false });
    if (!hop.pads || !hop.ct) return refuse('ERR_KM_CONFIG', 'a relay crosses the border padded: it cannot start at the gateway');
    const ctx = this.#o.context(hop.relay);
    if (!ctx) return refuse('ERR_KM_CONFIG', `no interworking context for relay ${hop.relay}`);
    const msg: Kxi1KeyRelay = { relay: hop.relay, qx: this.#o.qx, initiator: ctx.initiator, targets: ctx.targets, keys: hop.keys, bits: hop.bits, pads: hop.pads, ct: hop.ct, deadline: ctx.deadline, attempt: ctx.attempt };
    const conn = this.#o.connection();
    if (!conn || conn.closed) return refuse('ERR_KM_PEER_UNREACHABLE', 'no Kxi-1 connection to the peer gateway');
    try {
      this.#o.sessions.begin(msg);
    } catch (e) {
      return refuse('ERR_KM_KEY_NOT_AVAILABLE', (e as Error).message);
    }
    let answer;
    try {
      answer = await conn.request('Kxi1KeyRelay', msg, timeoutMs);
    } catch (e) {
      // a leak is refused before anything is sent; anything else leaves the hop unanswered
      if (e instanceof BorderLeakError) return refuse('ERR_KM_NOT_PERMITTED', e.message);
      return refuse(e instanceof IwError && e.code === 'ERR_IW_TIMEOUT' ? 'ERR_KM_TIMEOUT' : 'ERR_KM_PEER_UNREACHABLE', (e as Error).message);
    }
    if (answer.name !== 'Kxi1Ack') return { ok: false, status: 'ERR_KM_RELAY_FAILED', reason: `answered with ${answer.name}`, answered: true };
    this.#o.sessions.acked(hop.relay, answer.body);
    if (answer.body.status === 'ok') return { ok: true };
    return { ok: false, status: KX_STATUS_OF[answer.body.status], reason: answer.body.reason ?? answer.body.status, answered: true };
  }
}
