/**
 * Board factories for the bridge scenarios: the emulated link (always available) and real boards
 * named by environment variables. A scenario receives a BoardSetup and does not care which.
 *
 *   QKD_BOARD_TX, QKD_BOARD_RX  device paths (/dev/serial/by-id/...) or usb:VID:PID[:SERIAL]
 *   QKD_AUX                     the aux I/O (Firmata) board's path
 */
import { ChannelModel, type ChannelParams } from '../../firmware-bridge/emulator/channel-model.js';
import { EmulatedLink, type EmulatedLinkOptions } from '../../firmware-bridge/emulator/spawn.js';
import type { PortSelector } from '../../firmware-bridge/driver/serial-line.js';
import type { SourceSettings } from '../../firmware-bridge/emulator/channel-model.js';

export interface BoardSetup {
  readonly world: 'emulator' | 'hardware';
  readonly tx: PortSelector;
  readonly rx: PortSelector;
  /** The emulated link: fault knobs and physics. Undefined on hardware. */
  readonly emulated?: EmulatedLink;
  /** The channel parameters behind the boards, when known (always for the emulator). */
  channelModel(source: SourceSettings, overrides?: { distanceKm?: number; deadNs?: number; pZ?: number }): ChannelModel | undefined;
  close(): Promise<void>;
}

export type BoardFactory = (options?: EmulatedLinkOptions) => Promise<BoardSetup>;

function modelFrom(channel: ChannelParams, source: SourceSettings, o: { distanceKm?: number; deadNs?: number; pZ?: number } = {}): ChannelModel {
  return new ChannelModel({
    ...channel,
    source,
    fibre: { ...channel.fibre, distanceKm: o.distanceKm ?? channel.fibre.distanceKm },
    detector: { ...channel.detector, deadNs: o.deadNs ?? channel.detector.deadNs, pZ: o.pZ ?? channel.detector.pZ },
  });
}

export const emulatorFactory: BoardFactory = async (options = {}) => {
  const link = await EmulatedLink.start(options);
  return {
    world: 'emulator',
    tx: { path: link.tx.path },
    rx: { path: link.rx.path },
    emulated: link,
    channelModel: (source, o) => modelFrom(link.channel, source, o),
    close: () => link.close(),
  };
};

export function parsePortSelector(v: string): PortSelector {
  const m = /^usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?$/.exec(v);
  if (m) return { usb: { vendorId: m[1]!, productId: m[2]!, ...(m[3] ? { serialNumber: m[3] } : {}) } };
  return { path: v };
}

/** The hardware factory when QKD_BOARD_TX and QKD_BOARD_RX are set, else what is missing. */
export function hardwareFactory(env: NodeJS.ProcessEnv = process.env): BoardFactory | { readonly missing: string } {
  const tx = env.QKD_BOARD_TX;
  const rx = env.QKD_BOARD_RX;
  if (!tx || !rx) return { missing: 'QKD_BOARD_TX and QKD_BOARD_RX (device path or usb:VID:PID[:SERIAL])' };
  return async () => ({
    world: 'hardware',
    tx: parsePortSelector(tx),
    rx: parsePortSelector(rx),
    channelModel: () => undefined,
    close: async () => {},
  });
}
