/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker, IEEE/ACM ToN 7(2), 1999). A frame on the
 * wire is COBS(frame bytes) followed by one 0x00 delimiter, so a receiver that starts mid-stream
 * or loses bytes resynchronises at the next 0x00. Overhead is at most one byte per 254.
 */
export const COBS_DELIMITER = 0x00;

/** Largest encoded size (without the delimiter) of n decoded bytes. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

/**
 * Encodes src into dst at dstOffset and appends the 0x00 delimiter; returns the offset after it.
 * dst must have room for cobsMaxEncodedLength(src.length) + 1 bytes.
 */
export function cobsEncodeInto(src: Uint8Array, dst: Uint8Array, dstOffset = 0): number {
  let codeAt = dstOffset;
  let o = dstOffset + 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      dst[o++] = b;
      if (++code === 0xff) {
        dst[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  dst[codeAt] = code;
  dst[o++] = COBS_DELIMITER;
  return o;
}

/** COBS(src) followed by the delimiter, in a new buffer. */
export function cobsEncode(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(cobsMaxEncodedLength(src.length) + 1);
  return dst.subarray(0, cobsEncodeInto(src, dst));
}

/**
 * Decodes src[start, end) (no delimiter) into dst; returns the decoded length, or -1 if the bytes
 * are not valid COBS (a zero byte inside, or a code that runs past the end).
 */
export function cobsDecodeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  let i = start;
  let o = 0;
  while (i < end) {
    const code = src[i++]!;
    if (code === 0) return -1;
    const stop = i + code - 1;
    if (stop > end) return -1;
    if (o + code > dst.length + 1) return -1;
    for (; i < stop; i++) {
      const b = src[i]!;
      if (b === 0) return -1;
      dst[o++] = b;
    }
    // A code below 0xFF implies a zero after its run, except at the very end of the frame.
    if (code !== 0xff && i < end) {
      if (o >= dst.length) return -1;
      dst[o++] = 0;
    }
  }
  return o;
}

/**
 * Decodes buf[start, end) in place: the decoded bytes start at `start` (COBS output is never
 * longer than its input, so the runs only move left). For bytes already split at delimiters,
 * which therefore hold no zero byte (the caller's split guarantees it; cobsDecodeInto checks each
 * byte instead). The runs move with copyWithin (a memmove) rather than byte by byte: the frame
 * decoder takes tens of MB/s from a receiver. Returns the decoded length, or -1 if a code runs
 * past the end or the output would exceed `limit` bytes.
 */
export function cobsDecodeInPlace(buf: Uint8Array, start: number, end: number, limit: number): number {
  let i = start;
  let o = start;
  while (i < end) {
    const code = buf[i++]!;
    const stop = i + code - 1;
    if (stop > end) return -1;
    if (o - start + code > limit + 1) return -1;
    if (code > 1) {
      buf.copyWithin(o, i, stop);
      o += code - 1;
      i = stop;
    }
    // A code below 0xFF implies a zero after its run, except at the very end of the frame.
    if (code !== 0xff && i < end) {
      if (o - start >= limit) return -1;
      buf[o++] = 0;
    }
  }
  return o - start;
}
