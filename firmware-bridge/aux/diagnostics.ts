/**
 * What the aux I/O board tells observers (the node's management layer), on node:diagnostics_channel
 * so that nothing here imports them:
 *
 *   qkdn:aux:tamper       TamperEvent (aux-io.ts): the enclosure lid opened or closed
 *   qkdn:aux:temperature  TemperatureReading (aux-io.ts): each detector or enclosure sample
 */
import { channel } from 'node:diagnostics_channel';
import type { TamperEvent, TemperatureReading } from './aux-io.js';

export type { TamperEvent, TemperatureReading };

export const AUX_CHANNELS = {
  tamper: 'qkdn:aux:tamper',
  temperature: 'qkdn:aux:temperature',
} as const;

const tamper = channel(AUX_CHANNELS.tamper);
const temperature = channel(AUX_CHANNELS.temperature);

export function publishTamper(e: TamperEvent & { readonly path: string }): void {
  if (tamper.hasSubscribers) tamper.publish(e);
}

export function publishTemperature(r: TemperatureReading & { readonly path: string }): void {
  if (temperature.hasSubscribers) temperature.publish(r);
}
