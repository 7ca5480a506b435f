/**
 * One side of a board-protocol connection above the byte stream: numbers outgoing frames,
 * checks incoming ones (envelope, sequence, type), counts and logs every rejection, and hands
 * accepted frames to the message layer. Used by the host driver and by the board emulator alike.
 */
import { cobsEncode } from './cobs.js';
import { encodeFrame, rawFrame, FrameDecoder, seqAfter, PROTOCOL_MAJOR, type Frame, type FrameRejectReason, FRAME_REJECT_REASONS } from './frame.js';
import { MESSAGE_NAMES } from './messages.js';

/** Every reason a frame or message is refused; each has a counter in LinkStats.rejected. */
/** Consecutive in-order frames behind the baseline after which the receiver follows them. */
export const RESYNC_AFTER = 8;

export type RejectReason = FrameRejectReason | 'sequence' | 'unknown-type' | 'bad-payload' | 'unexpected';
export const REJECT_REASONS: readonly RejectReason[] = [...FRAME_REJECT_REASONS, 'sequence', 'unknown-type', 'bad-payload', 'unexpected'];

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames whose sequence number jumped ahead: this many frames never arrived. */
  framesMissing: number;
  readonly rejected: Record<RejectReason, number>;
}

export interface LinkLogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly event: string;
  readonly reason?: RejectReason;
  readonly message: string;
}
export type LinkLogger = (entry: LinkLogEntry) => void;

export function newLinkStats(): LinkStats {
  return {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesMissing: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
  };
}

export interface FrameLinkOptions {
  /** Writes one encoded frame to the port. */
  readonly write: (bytes: Uint8Array) => void;
  /** Types this side accepts; others are rejected as 'unknown-type'. */
  readonly accept: ReadonlySet<number>;
  /** An accepted frame. The payload is valid only during the call. */
  readonly onFrame: (frame: Frame) => void;
  /** A frame of another major version arrived (envelope intact). */
  readonly onForeignVersion?: (frame: Frame) => void;
  /** Called for an 'unknown-type' rejection (a board answers ERROR unknown-type). */
  readonly onUnknownType?: (frame: Frame) => void;
  /** Types that restart sequence checking (HELLO: a host that reconnects starts afresh). */
  readonly resyncTypes?: ReadonlySet<number>;
  readonly log?: LinkLogger;
  readonly version?: number;
  /**
   * Sees each outgoing frame before COBS encoding and returns the frames to put on the line:
   * the emulator's fault injector drops, duplicates, corrupts or holds back frames here.
   */
  readonly outgoing?: (raw: Uint8Array, type: number) => readonly Uint8Array[];
}

export class FrameLink {
  readonly stats: LinkStats = newLinkStats();
  private readonly decoder: FrameDecoder;
  private nextSeq = 1;
  private lastSeq = 0;
  private haveLast = false;
  private streak = 0;
  private streakLast = 0;
  private readonly version: number;

  constructor(private readonly opts: FrameLinkOptions) {
    this.version = opts.version ?? PROTOCOL_MAJOR;
    this.decoder = new FrameDecoder(
      {
        frame: (f) => this.onFrame(f),
        reject: (reason, detail, frame) => {
          this.reject(reason, detail);
          if (frame && reason === 'version') opts.onForeignVersion?.(frame);
        },
      },
      [this.version],
    );
  }

  /** Frames a payload and writes it; returns the sequence number used. */
  send(type: number, payload: Uint8Array): number {
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0 || 1;
    this.stats.framesOut++;
    if (this.opts.outgoing) {
      for (const raw of this.opts.outgoing(rawFrame(type, seq, payload, this.version), type)) {
        const bytes = cobsEncode(raw);
        this.stats.bytesOut += bytes.length;
        this.opts.write(bytes);
      }
      return seq;
    }
    const bytes = encodeFrame(type, seq, payload, this.version);
    this.stats.bytesOut += bytes.length;
    this.opts.write(bytes);
    return seq;
  }

  /** Bytes read from the port, in any fragmentation. */
  push(chunk: Uint8Array): void {
    this.stats.bytesIn += chunk.length;
    this.decoder.push(chunk);
  }

  /** After (re)opening the port: forget partial frames and accept any next sequence number. */
  resync(): void {
    this.decoder.reset();
    this.haveLast = false;
  }

  /** Counts and logs a rejection found above the frame layer (e.g. a payload that fails validation). */
  reject(reason: RejectReason, detail: string): void {
    this.stats.rejected[reason]++;
    this.opts.log?.({ level: 'warn', event: 'frame-rejected', reason, message: `${reason}: ${detail}` });
  }

  private onFrame(f: Frame): void {
    if (!MESSAGE_NAMES.has(f.type) || !this.opts.accept.has(f.type)) {
      this.reject('unknown-type', `type 0x${f.type.toString(16).padStart(2, '0')} (seq ${f.seq})`);
      this.opts.onUnknownType?.(f);
      return;
    }
    if (this.haveLast && !this.opts.resyncTypes?.has(f.type) && !seqAfter(f.seq, this.lastSeq)) {
      this.reject('sequence', `seq ${f.seq} after ${this.lastSeq} (${MESSAGE_NAMES.get(f.type)}): duplicate or reordered`);
      // A peer whose numbering jumped (a firmware bug, a frame with a wild seq that passed the
      // CRC) would otherwise be shut out for good: after a run of rejected frames that are in
      // order among themselves, take their numbering as the new baseline.
      if (this.streak > 0 && seqAfter(f.seq, this.streakLast)) this.streak++;
      else this.streak = 1;
      this.streakLast = f.seq;
      if (this.streak < RESYNC_AFTER) return;
      this.opts.log?.({ level: 'warn', event: 'sequence-resync', message: `${RESYNC_AFTER} frames in order behind seq ${this.lastSeq}: following the peer's numbering from ${f.seq}` });
      this.haveLast = false;
    }
    this.streak = 0;
    if (this.haveLast && !this.opts.resyncTypes?.has(f.type)) {
      const gap = ((f.seq - this.lastSeq) >>> 0) - 1;
      if (gap > 0) {
        this.stats.framesMissing += gap;
        this.opts.log?.({ level: 'info', event: 'frames-missing', message: `${gap} frame(s) missing before seq ${f.seq}` });
      }
    }
    this.lastSeq = f.seq;
    this.haveLast = true;
    this.stats.framesIn++;
    this.opts.onFrame(f);
  }
}
