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
