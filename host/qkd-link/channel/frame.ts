/**
 * Wire format of the QKD link's classical channel, version 1. One definition, used by both ends.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |  version (1)  |     type      |   direction   |   reserved 0  |
 *  +---------------+---------------+---------------+---------------+
 *  |                                                               |
 *  +                pad index (u64, big-endian)                    +
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  payload length (u32, big-endian)             |
 *  +---------------------------------------------------------------+
 *  |                     payload (CBOR) ...                        |
 *  +---------------------------------------------------------------+
 *  |                 tag (tagBytes of the MAC) ...                 |
 *  +---------------------------------------------------------------+
 *
 * version    1. A frame of any other version is refused (ERR_CHANNEL_VERSION).
 * type       FrameType below.
 * direction  0 = transmitter (Alice) to receiver (Bob), 1 = receiver to transmitter. A frame
 *            whose direction is not the peer's is refused: it would be our own frame reflected.
 * pad index  which one-time authentication key of this direction's pad stream the tag used;
 *            strictly increasing per direction, so it is also the anti-replay sequence number.
 * tag        Wegman-Carter: hash_k(header || payload) XOR r, with (k, r) the pad at pad index.
 *            The header (first 16 bytes) is authenticated with the payload.
 */
export const CHANNEL_VERSION = 1;
export const HEADER_BYTES = 16;
/** Largest payload accepted: a sifting announcement of a 2^24-slot block fits with room. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export enum FrameType {
  /** First frame on a connection: link ID and role, so a misdirected peer is refused. */
  Hello = 1,
  /** A post-processing message of the link session (sifting, estimation, reconciliation...). */
  Data = 2,
  /** "Your next pad index must be at least N": sent after a restart left the peer behind. */
  Resync = 3,
  /** Orderly close with a reason. */
  Close = 4,
}

export enum Direction {
  AliceToBob = 0,
  BobToAlice = 1,
}

export interface FrameHeader {
  readonly version: number;
  readonly type: FrameType;
  readonly direction: Direction;
  readonly padIndex: bigint;
  readonly payloadLength: number;
}

export function encodeHeader(h: Omit<FrameHeader, 'version'>): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, CHANNEL_VERSION);
  dv.setUint8(1, h.type);
  dv.setUint8(2, h.direction);
  dv.setUint8(3, 0);
  dv.setBigUint64(4, h.padIndex);
  dv.setUint32(12, h.payloadLength);
  return out;
}

/** Parses a header; range checks are the channel's (it knows the MAC's tag length). */
export function decodeHeader(bytes: Uint8Array): FrameHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  return {
    version: dv.getUint8(0),
    type: dv.getUint8(1) as FrameType,
    direction: dv.getUint8(2) as Direction,
    padIndex: dv.getBigUint64(4),
    payloadLength: dv.getUint32(12),
  };
}

export function isFrameType(t: number): t is FrameType {
  return t === FrameType.Hello || t === FrameType.Data || t === FrameType.Resync || t === FrameType.Close;
}
