/**
 * Why a block of the link gives no key, or why the link stops. Each code is what the block
 * report (diagnostics.ts), the `abort` message and the manager count by; `security` marks the
 * ones that may mean an attack.
 */
export type LinkErrorCode =
  /** Test-basis (or estimated key-basis) QBER above the configured limit. */
  | 'ERR_LINK_QBER'
  /** The finite-key analysis leaves no secret bits (phase-error bound, too few events, leakage). */
  | 'ERR_LINK_NO_KEY'
  /** The corrected keys' verification tags differ: reconciliation left errors. */
  | 'ERR_LINK_VERIFY'
  /** Every frame of the block failed to decode. */
  | 'ERR_LINK_RECONCILIATION'
  /** The peer went away (connection lost) while the block was in flight. */
  | 'ERR_LINK_PEER_LOST'
  /** The peer did not answer within the configured time. */
  | 'ERR_LINK_TIMEOUT'
  /** A board raised a critical alarm, was reset, disconnected or refused a request. */
  | 'ERR_LINK_BOARD_FAULT'
  /** The classical channel refused a frame (bad tag, replay): the block is abandoned. */
  | 'ERR_LINK_CHANNEL'
  /** The peer said something inconsistent with this end's view (counts, lengths, order). */
  | 'ERR_LINK_PROTOCOL'
  /** The block was abandoned because the module is stopping. */
  | 'ERR_LINK_STOPPED'
  /** The configuration is invalid. */
  | 'ERR_LINK_CONFIG'
  /** The two ends are configured differently (protocol parameters). */
  | 'ERR_LINK_MISMATCH'
  /** A durable store refused a write. */
  | 'ERR_LINK_STORE';

const SECURITY: ReadonlySet<LinkErrorCode> = new Set(['ERR_LINK_QBER', 'ERR_LINK_VERIFY', 'ERR_LINK_CHANNEL']);

export class LinkError extends Error {
  readonly code: LinkErrorCode;
  /** True when the cause may be an eavesdropper or a tampered channel. */
  readonly security: boolean;
  /** True when the peer sent this abort (the local end only learned of it). */
  readonly fromPeer: boolean;
  constructor(code: LinkErrorCode, message: string, options: { fromPeer?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.security = SECURITY.has(code);
    this.fromPeer = options.fromPeer ?? false;
  }
}

/** A configuration value that cannot work, naming the key. */
export class LinkConfigError extends LinkError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('ERR_LINK_CONFIG', `link configuration: ${key}: ${message}`);
    this.key = key;
  }
}

const CODES: ReadonlySet<string> = new Set<LinkErrorCode>([
  'ERR_LINK_QBER', 'ERR_LINK_NO_KEY', 'ERR_LINK_VERIFY', 'ERR_LINK_RECONCILIATION', 'ERR_LINK_PEER_LOST', 'ERR_LINK_TIMEOUT',
  'ERR_LINK_BOARD_FAULT', 'ERR_LINK_CHANNEL', 'ERR_LINK_PROTOCOL', 'ERR_LINK_STOPPED', 'ERR_LINK_CONFIG', 'ERR_LINK_MISMATCH', 'ERR_LINK_STORE',
]);

/** The code of a peer's abort message, or ERR_LINK_PROTOCOL for a code this end does not know. */
export function peerCode(code: string): LinkErrorCode {
  return CODES.has(code) ? (code as LinkErrorCode) : 'ERR_LINK_PROTOCOL';
}
