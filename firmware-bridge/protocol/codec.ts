/**
 * One codec per message type, so generic code (test vectors, fuzzing, the emulator's dispatcher)
 * can encode and decode any message by its type code.
 */
import { decodeDetections, encodeDetections, type DetectionBatch } from './detections.js';
import * as m from './messages.js';

export interface MessageMap {
  HELLO: m.Hello;
  IDENTIFY: m.Identify;
  CONFIGURE: m.Configure;
  START: m.Start;
  STOP: Record<string, never>;
  CREDIT: m.Credit;
  RESEND: m.Resend;
  QUERY_SETTINGS: m.QuerySettings;
  GET_TELEMETRY: Record<string, never>;
  ACK: m.Ack;
  SETTINGS: m.Settings;
  TELEMETRY: m.Telemetry;
  DETECTIONS: DetectionBatch;
  BATCH_LOST: m.BatchLost;
  ALARM: m.Alarm;
  ERROR: m.ErrorMessage;
}

export interface Codec<T> {
  encode(message: T): Uint8Array;
  decode(payload: Uint8Array): T;
}

function empty(name: string): Codec<Record<string, never>> {
  return {
    // An empty CBOR map (0xA0): the message carries no fields in 1.0.
    encode: () => new Uint8Array([0xa0]),
    decode: (p) => {
      m.payloadMap(name, p);
      return {};
    },
  };
}

export const CODECS: { readonly [K in keyof MessageMap]: Codec<MessageMap[K]> } = {
  HELLO: { encode: m.encodeHello, decode: m.decodeHello },
  IDENTIFY: { encode: m.encodeIdentify, decode: m.decodeIdentify },
  CONFIGURE: { encode: m.encodeConfigure, decode: m.decodeConfigure },
  START: { encode: m.encodeStart, decode: m.decodeStart },
  STOP: empty('STOP'),
  CREDIT: { encode: m.encodeCredit, decode: m.decodeCredit },
  RESEND: { encode: m.encodeResend, decode: m.decodeResend },
  QUERY_SETTINGS: { encode: m.encodeQuerySettings, decode: m.decodeQuerySettings },
  GET_TELEMETRY: empty('GET_TELEMETRY'),
  ACK: { encode: m.encodeAck, decode: m.decodeAck },
  SETTINGS: { encode: m.encodeSettings, decode: m.decodeSettings },
  TELEMETRY: { encode: m.encodeTelemetry, decode: m.decodeTelemetry },
  DETECTIONS: { encode: encodeDetections, decode: decodeDetections },
  BATCH_LOST: { encode: m.encodeBatchLost, decode: m.decodeBatchLost },
  ALARM: { encode: m.encodeAlarm, decode: m.decodeAlarm },
  ERROR: { encode: m.encodeError, decode: m.decodeError },
};

/** Decodes any message by type code (throws BadMessageError on a bad payload). */
export function decodeMessage(type: number, payload: Uint8Array): MessageMap[keyof MessageMap] | undefined {
  const name = m.MESSAGE_NAMES.get(type);
  return name ? CODECS[name].decode(payload) : undefined;
}
