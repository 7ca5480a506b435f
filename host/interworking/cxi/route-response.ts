/**
 * CxiRouteResponse (Cxi type 0x33): controller-B's answer to a CxiRouteRequest. With `ok` it
 * names the GWN pair and Qx link the relay is to cross (`border`), the cost and available stock of
 * B's own segment, and the version of B's route table the segment came from (so a later reroute
 * can tell a stale segment). B's segment itself stays inside B: controller-B pushes it to its own
 * KMs. Otherwise `status` is an ETSI GS QKD 020 error from status.ts (`no_known_route`,
 * `insufficient_key_material`, `invalid_routing`, `target_sae_id_not_recognized`, `unauthorized`).
 *
 *   { re: uint, request: uuid, status: text,
 *     border?: { local: id, peer: id, qx: id }, cost?: uint, stock?: uint, version?: uint, reason?: text }
 */
import { IwDecodeError } from '../errors.js';
import { id, object, oneOf, text, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import { STATUS_NAMES, type IwStatus } from '../status.js';

export interface RouteBorder {
  /** The answering provider's gateway. */
  readonly local: string;
  /** The asking provider's gateway at the other end of `qx`. */
  readonly peer: string;
  readonly qx: string;
}

export interface CxiRouteResponse {
  readonly re: number;
  readonly request: string;
  readonly status: IwStatus;
  readonly border?: RouteBorder;
  readonly cost?: number;
  readonly stock?: number;
  readonly version?: number;
  readonly reason?: string;
}

export const CxiRouteResponseSpec = defineMessage<'CxiRouteResponse', CxiRouteResponse>({
  name: 'CxiRouteResponse',
  rp: 'Cxi',
  type: 0x33,
  answer: true,
  schema: object(
    { re: uint(), request: uuid, status: oneOf(STATUS_NAMES) },
    { border: object({ local: id, peer: id, qx: id }), cost: uint(), stock: uint(), version: uint(), reason: text(LIMITS.text) },
  ),
  check: (m) => {
    const full = m.border !== undefined && m.cost !== undefined && m.stock !== undefined && m.version !== undefined;
    if (m.status === 'ok' && !full) throw new IwDecodeError('CxiRouteResponse', 'an ok answer needs border, cost, stock and version');
    if (m.status !== 'ok' && m.border !== undefined) throw new IwDecodeError('CxiRouteResponse.border', 'only in an ok answer');
  },
  bytes: [],
  freeText: ['reason'],
  example: {
    re: 7,
    request: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
    status: 'ok',
    border: { local: 'gwn-b', peer: 'gwn-a', qx: 'qx-ab' },
    cost: 3,
    stock: 2048,
    version: 12,
  },
  vector: '850118330700a7627265076772657175657374782435613462336332642d316530662d346139622d386337642d36653566346133623263316466737461747573626f6b66626f72646572a3656c6f63616c6567776e2d6264706565726567776e2d616271786571782d616264636f7374036573746f636b1908006776657273696f6e0c',
});
