/**
 * The statuses a Kx answer (Response, KeySupplyNotificationResponse) and a failed relay's
 * KeyRelayCompletionNotification carry: `ok` or one error code from this table. A receiver acts on
 * the code, never on the reason text; a code outside the table is refused when decoded. A KM error
 * whose code is not a Kx status travels as ERR_KM_INTERNAL.
 */
export const KX_STATUSES = [
  'ok',
  'ERR_KM_KEY_UNKNOWN',
  'ERR_KM_KEY_NOT_AVAILABLE',
  'ERR_KM_INSUFFICIENT_KEYS',
  'ERR_KM_STATE_TRANSITION',
  'ERR_KM_ZEROIZED',
  'ERR_KM_INTEGRITY',
  'ERR_KM_CLOSED',
  'ERR_KM_STORAGE_KEY',
  'ERR_KM_PEER_UNREACHABLE',
  'ERR_KM_PEER_REFUSED',
  'ERR_KM_TIMEOUT',
  'ERR_KM_NO_ROUTE',
  'ERR_KM_NOT_PERMITTED',
  'ERR_KM_CONFIG',
  'ERR_KM_POLICY_REFUSED',
  /** A relay failed without a more precise code (e.g. no completion in time). */
  'ERR_KM_RELAY_FAILED',
  'ERR_KM_INTERNAL',
  'ERR_KX_DECODE',
  'ERR_KX_VERSION',
  'ERR_KX_FRAME_TOO_LARGE',
  'ERR_KX_UNKNOWN_TYPE',
] as const;

export type KxStatus = (typeof KX_STATUSES)[number];
export type KxErrorStatus = Exclude<KxStatus, 'ok'>;

const KNOWN = new Set<string>(KX_STATUSES);

export function isKxStatus(s: unknown): s is KxStatus {
  return typeof s === 'string' && KNOWN.has(s);
}

/** The status an error travels as: its code when the table has it, else ERR_KM_INTERNAL. */
export function statusOf(e: unknown): KxErrorStatus {
  const code = (e as { code?: unknown } | null)?.code;
  return isKxStatus(code) && code !== 'ok' ? code : 'ERR_KM_INTERNAL';
}
