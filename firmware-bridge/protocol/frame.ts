/**
 * The frame envelope of the board protocol (PROTOCOL.md section 2). Decoded, a frame is
 *
 *   byte 0      major protocol version (this file implements 1)
 *   byte 1      message type (messages.ts, MessageType)
 *   bytes 2-5   sequence number, u32 little-endian, per direction, +1 per frame sent
 *   bytes 6..   payload: one CBOR data item (may be empty for some types)
 *   last 4      CRC-32C of every byte before it, u32 little-endian
 *
 * and on the wire it is COBS-encoded and followed by 0x00. The envelope is frozen across major
 * versions so that either side can always read the version byte and answer ERROR
 * `unsupported-version` in a form the other understands.
 */
import { cobsDecodeInPlace, cobsEncodeInto, cobsMaxEncodedLength, COBS_DELIMITER } from './cobs.js';
import { crc32c } from './crc32c.js';

export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 0;
export const HEADER_LENGTH = 6;
export const CRC_LENGTH = 4;
/** Smallest decoded frame: header and CRC, empty payload. */
export const MIN_FRAME_LENGTH = HEADER_LENGTH + CRC_LENGTH;
/** Largest payload either side may send; a frame above this is rejected as oversized. */
export const MAX_PAYLOAD_LENGTH = 65536;
export const MAX_FRAME_LENGTH = MIN_FRAME_LENGTH + MAX_PAYLOAD_LENGTH;
export const MAX_ENCODED_LENGTH = cobsMaxEncodedLength(MAX_FRAME_LENGTH);

export interface Frame {
  readonly version: number;
  readonly type: number;
  readonly seq: number;
  /** A view into the decoder's buffer, valid until the next call into the decoder. */
  readonly payload: Uint8Array;
}

/** Why a frame was rejected; every reason has its own counter. */
export type FrameRejectReason =
  | 'truncated' // shorter than header + CRC
  | 'oversized' // more than MAX_ENCODED_LENGTH bytes before a delimiter
  | 'cobs' // not valid COBS
  | 'crc' // CRC-32C mismatch
  | 'version'; // a major version this side does not implement (envelope intact)

export const FRAME_REJECT_REASONS: readonly FrameRejectReason[] = ['truncated', 'oversized', 'cobs', 'crc', 'version'];

/** Decoded frames are built here before COBS encoding: one allocation per frame sent, the wire bytes. */
const rawScratch = new Uint8Array(MAX_FRAME_LENGTH);

/** Encodes one frame (COBS and delimiter included) into a new buffer. */
export function encodeFrame(type: number, seq: number, payload: Uint8Array, version = PROTOCOL_MAJOR): Uint8Array {
  if (payload.length > MAX_PAYLOAD_LENGTH) throw new RangeError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_LENGTH}`);
  const raw = rawScratch.subarray(0, writeRawFrame(type, seq, payload, version, rawScratch));
  const wire = new Uint8Array(cobsMaxEncodedLength(raw.length) + 1);
  return wire.subarray(0, cobsEncodeInto(raw, wire));
}

/** The decoded (pre-COBS) bytes of a frame: what the test vectors list as `frame`. */
export function rawFrame(type: number, seq: number, payload: Uint8Array, version = PROTOCOL_MAJOR): Uint8Array {
  const raw = new Uint8Array(HEADER_LENGTH + payload.length + CRC_LENGTH);
  writeRawFrame(type, seq, payload, version, raw);
  return raw;
}

function writeRawFrame(type: number, seq: number, payload: Uint8Array, version: number, raw: Uint8Array): number {
  const n = HEADER_LENGTH + payload.length + CRC_LENGTH;
  raw[0] = version;
  raw[1] = type;
  writeU32(raw, 2, seq >>> 0);
  raw.set(payload, HEADER_LENGTH);
  writeU32(raw, n - CRC_LENGTH, crc32c(raw, 0, n - CRC_LENGTH));
  return n;
}

export interface FrameSink {
  frame(frame: Frame): void;
  /** `frame` is given for 'version' only: the envelope is intact, so the session can name the version. */
  reject(reason: FrameRejectReason, detail: string, frame?: Frame): void;
}

/**
 * Streaming frame decoder: feed it whatever the port read, in any fragmentation; it calls
 * sink.frame for each good frame and sink.reject for each bad one, and never throws on input.
 * Bytes before the first delimiter after a (re)start are treated as a frame like any other,
 * which is why a receiver flushes its port and both sides send a delimiter first.
 */
export class FrameDecoder {
  readonly supportedVersions: readonly number[];
  private readonly pending = new Uint8Array(MAX_ENCODED_LENGTH);
  private pendingLength = 0;
  private discarding = false;

  constructor(private readonly sink: FrameSink, supportedVersions: readonly number[] = [PROTOCOL_MAJOR]) {
    this.supportedVersions = supportedVersions;
  }

  /** Drops a partial frame (after reconnecting, bytes before are not continued). */
  reset(): void {
    this.pendingLength = 0;
    this.discarding = false;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(COBS_DELIMITER, start);
      if (end < 0) {
        this.accumulate(chunk, start, chunk.length);
        return;
      }
      // Every frame is decoded in place in `pending` (the caller's chunk is left as it was).
      this.accumulate(chunk, start, end);
      // An oversized frame ends here: what was kept of it is dropped (accumulate said so once).
      if (this.discarding) this.discarding = false;
      else this.decodePending();
      this.pendingLength = 0;
      start = end + 1;
    }
  }

  private accumulate(chunk: Uint8Array, start: number, end: number): void {
    if (this.discarding) return;
    const n = end - start;
    if (this.pendingLength + n > MAX_ENCODED_LENGTH) {
      this.sink.reject('oversized', `more than ${MAX_ENCODED_LENGTH} bytes without a delimiter`);
      this.discarding = true;
      this.pendingLength = 0;
      return;
    }
    this.pending.set(chunk.subarray(start, end), this.pendingLength);
    this.pendingLength += n;
  }

  /** Decodes the frame accumulated in `pending` (its bytes hold no delimiter). */
  private decodePending(): void {
    const len = this.pendingLength;
    if (len === 0) return; // back-to-back delimiters are idle fill, not frames
    const d = this.pending;
    const n = cobsDecodeInPlace(d, 0, len, MAX_FRAME_LENGTH);
    if (n < 0) {
      this.sink.reject('cobs', `invalid COBS in ${len} bytes`);
      return;
    }
    if (n < MIN_FRAME_LENGTH) {
      this.sink.reject('truncated', `${n} bytes, need at least ${MIN_FRAME_LENGTH}`);
      return;
    }
    const want = readU32(d, n - CRC_LENGTH);
    const got = crc32c(d, 0, n - CRC_LENGTH);
    if (want !== got) {
      this.sink.reject('crc', `CRC-32C ${hex(got)} != ${hex(want)} over ${n} bytes (type ${d[1]}, seq ${readU32(d, 2)})`);
      return;
    }
    const version = d[0]!;
    const type = d[1]!;
    const seq = readU32(d, 2);
    if (!this.supportedVersions.includes(version)) {
      this.sink.reject('version', `protocol major version ${version} (type ${type}, seq ${seq})`, {
        version,
        type,
        seq,
        payload: d.subarray(HEADER_LENGTH, n - CRC_LENGTH),
      });
      return;
    }
    this.sink.frame({ version, type, seq, payload: d.subarray(HEADER_LENGTH, n - CRC_LENGTH) });
  }
}

export function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** RFC 1982 serial-number comparison on u32: is a after b? */
export function seqAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}
