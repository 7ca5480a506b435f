/** Typed errors of the classical channel. Each carries a code the manager counts by. */
export type ChannelErrorCode =
  | 'ERR_CHANNEL_VERSION'
  | 'ERR_CHANNEL_FRAME'
  | 'ERR_CHANNEL_AUTH'
  | 'ERR_CHANNEL_REPLAY'
  | 'ERR_CHANNEL_PEER'
  | 'ERR_CHANNEL_AUTH_KEY_EXHAUSTED'
  | 'ERR_CHANNEL_CLOSED';

export class ChannelError extends Error {
  readonly code: ChannelErrorCode;
  /** True when the error means someone may be tampering with the channel. */
  readonly security: boolean;
  constructor(code: ChannelErrorCode, message: string, security = false) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.security = security;
  }
}

/** A frame whose tag does not verify: the block in flight is aborted and a security event raised. */
export class ChannelAuthError extends ChannelError {
  constructor(padIndex: number) {
    super('ERR_CHANNEL_AUTH', `frame with pad index ${padIndex} failed authentication`, true);
  }
}

/** A frame whose pad index is not above the last accepted one: replayed or reordered. */
export class ChannelReplayError extends ChannelError {
  constructor(padIndex: number, floor: number) {
    super('ERR_CHANNEL_REPLAY', `frame with pad index ${padIndex} refused: indices below ${floor} are used`, true);
  }
}

/** No authentication key left: the link cannot talk until it is given a new pre-shared secret. */
export class AuthKeyExhaustedError extends ChannelError {
  constructor(direction: string, padIndex: number) {
    super('ERR_CHANNEL_AUTH_KEY_EXHAUSTED', `no authentication pad ${padIndex} left for ${direction}`);
  }
}
