/**
 * The status table of interworking answers (Kxi1Ack, Kxi2KeySupplyNotificationResponse,
 * CxiRouteResponse). The error statuses take their names and meaning from the error `details` of
 * the draft ETSI GS QKD 020 Interoperable KMS API (0.4.1, responses 400/401/408/503 of
 * `ext_keys`), so a Kxi-1 peer and an ETSI 020 gateway can map one onto the other without loss;
 * `http` is the status ETSI 020 gives it.
 */
export const STATUS = {
  ok: { http: 200, meaning: 'accepted and done' },
  no_known_route: { http: 400, meaning: 'no route is known to deliver to the target SAE' },
  insufficient_key_material: { http: 400, meaning: 'not enough key material to carry the keys (Qx units, relay stock or link stock)' },
  invalid_routing: { http: 400, meaning: 'the route would pass the keys straight back to the KM that sent them' },
  target_sae_id_not_recognized: { http: 400, meaning: 'no KM is known for a target SAE' },
  missing_parameters: { http: 400, meaning: 'required parameters are missing' },
  key_not_present: { http: 400, meaning: 'the named key IDs are not held' },
  unauthorized: { http: 401, meaning: 'the peer or SAE is not permitted (pinning, sharing policy)' },
  timeout: { http: 408, meaning: 'no answer from the next KM in time' },
  server_side_general_error: { http: 503, meaning: 'a general failure on the answering side' },
} as const;

export type IwStatus = keyof typeof STATUS;
export const STATUS_NAMES = Object.keys(STATUS) as readonly IwStatus[];

/** ETSI GS QKD 020 ack_status of a completed relay (ext_keys/ack), `key not present` with an underscore. */
export const RELAY_OUTCOMES = ['relayed', 'voided', 'failed', 'key_not_present'] as const;
export type RelayOutcome = (typeof RELAY_OUTCOMES)[number];

/** ETSI GS QKD 020 `message_data` of an error response: a message and one detail named by the status. */
export interface Etsi020MessageData {
  readonly message: string;
  readonly details: readonly Readonly<Record<string, string>>[];
}

const ETSI_MESSAGE: Partial<Record<IwStatus, string>> = {
  no_known_route: 'key routing error',
  invalid_routing: 'key routing error',
  target_sae_id_not_recognized: 'key routing error',
  insufficient_key_material: 'insufficient key material',
  missing_parameters: 'missing parameters',
  key_not_present: 'key not present',
  unauthorized: 'unauthorized',
  timeout: 'timeout',
  server_side_general_error: 'server side general error',
};

/** The ETSI 020 HTTP status and body for an interworking error status (a gateway to another vendor's KMS answers with these). */
export function toEtsi020(status: Exclude<IwStatus, 'ok'>, detail: string = STATUS[status].meaning): { http: number; body: Etsi020MessageData } {
  return { http: STATUS[status].http, body: { message: ETSI_MESSAGE[status] ?? status, details: [{ [status]: detail }] } };
}

/** The interworking status of an ETSI 020 error body, or null if its details name none of ours. */
export function fromEtsi020(body: unknown): IwStatus | null {
  if (typeof body !== 'object' || body === null) return null;
  const details = (body as { details?: unknown }).details;
  if (!Array.isArray(details)) return null;
  for (const d of details) {
    if (typeof d !== 'object' || d === null) continue;
    for (const k of Object.keys(d)) if ((STATUS_NAMES as readonly string[]).includes(k) && k !== 'ok') return k as IwStatus;
  }
  return null;
}
