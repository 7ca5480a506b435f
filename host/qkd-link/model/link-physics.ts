/**
 * The physics of the link as the module configures it: the transmitter's source and the
 * receiver's splitter and dead time from the protocol section (module/config.ts), the rest of the
 * detector from the emulated board's defaults unless given (a real board: its datasheet).
 */
import { DEFAULT_DETECTOR } from '../../../firmware-bridge/emulator/channel-model.js';
import type { ProtocolConfig } from '../module/config.js';
import type { DetectorModel, LinkPhysics } from './physics.js';

export interface PhysicsOverrides {
  readonly detector?: Partial<DetectorModel>;
  /** Default 0.2 dB/km, as the emulated fibre. */
  readonly attenuationDbPerKm?: number;
  readonly interceptFraction?: number;
}

export function physicsFromProtocol(protocol: ProtocolConfig, over: PhysicsOverrides = {}): LinkPhysics {
  return {
    source: { clockHz: protocol.clockHz, mu: [...protocol.mu], pMu: [...protocol.pMu], pZ: protocol.pZ },
    detector: { ...DEFAULT_DETECTOR, pZ: protocol.rxPZ, deadNs: protocol.deadNs, ...over.detector },
    attenuationDbPerKm: over.attenuationDbPerKm ?? 0.2,
    ...(over.interceptFraction !== undefined ? { interceptFraction: over.interceptFraction } : {}),
  };
}

export interface LinkOverhead {
  /** Key bits per LDPC frame at the link's QBER (about 60975 near 2 %). */
  readonly frameKeyBits?: number;
  /** Verification tag bits sent with each frame's syndrome. */
  readonly tagBitsPerFrame?: number;
}

/**
 * What the link discloses per block besides λ_EC = f n h(E): a tag per LDPC frame (sent with its
 * syndrome, decoded or not) and the three per-class error counts (⌈log2(n + 1)⌉ bits each).
 */
export function linkOverheadBits(siftedBits: number, o: LinkOverhead = {}): number {
  const frames = Math.max(1, Math.ceil(siftedBits / (o.frameKeyBits ?? 60_975)));
  return frames * (o.tagBitsPerFrame ?? 128) + 3 * Math.ceil(Math.log2(siftedBits + 1));
}
