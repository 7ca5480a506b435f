/**
 * Writes firmware-bridge/protocol/vectors/*.json. Run after changing the protocol:
 *   node --import tsx firmware-bridge/protocol/vectors/generate.ts
 * vectors.test.ts checks that the files and the code agree, so a stale file fails the tests.
 */
import { writeFileSync } from 'node:fs';
import { CODECS, type MessageMap } from '../codec.js';
import { DetectionBatch } from '../detections.js';
import { encodeFrame, rawFrame, writeU32 } from '../frame.js';
import { crc32c } from '../crc32c.js';
import { cobsEncode } from '../cobs.js';
import { MessageType } from '../messages.js';
import { hex, toJson, type MessageVector, type RejectVector } from '../vectors.js';

const dir = new URL('./', import.meta.url);

type Def = { [K in keyof MessageMap]: { type: K; name: string; description: string; seq: number; message: MessageMap[K] } }[keyof MessageMap];

const defs: Def[] = [
  { type: 'HELLO', name: 'hello', description: 'host opens a session preferring 1.0, implementing major 1', seq: 1, message: { v: [1, 0], majors: [1], host: 'qkdn-edge/0.1.0' } },
  {
    type: 'IDENTIFY',
    name: 'identify-rx',
    description: 'receiver answers HELLO seq 1',
    seq: 7,
    message: {
      re: 1,
      v: [1, 0],
      model: 'QKDN-EMU-RX',
      serial: 'EMU-RX-0001',
      fw: '1.0.0-emu',
      role: 'rx',
      boot: 305419896,
      caps: { maxClockHz: 1_000_000_000, detectors: 4, intensities: 0, ringSlots: 0, maxBatchEvents: 8192, replayBatches: 4096 },
    },
  },
  {
    type: 'CONFIGURE',
    name: 'configure-tx',
    description: 'decoy-state source: 1 GHz, signal/decoy/vacuum 0.5/0.1/0 with probabilities 0.7/0.2/0.1, Z basis 90 %',
    seq: 2,
    message: { clockHz: 1_000_000_000, mu: [0.5, 0.1, 0], pMu: [0.7, 0.2, 0.1], pZ: 0.9 },
  },
  { type: 'CONFIGURE', name: 'configure-rx', description: 'receiver: 1 GHz gates of 0.5 ns, 50 ns dead time, 2^20 slots per batch', seq: 2, message: { clockHz: 1_000_000_000, pZ: 0.9, gateNs: 0.5, biasV: 48.5, deadNs: 50, batchSlots: 1048576 } },
  { type: 'START', name: 'start', description: 'start acquisition 3 with credit for batches 0-63', seq: 3, message: { acq: 3, credit: 64 } },
  { type: 'STOP', name: 'stop', description: 'stop acquiring (empty map)', seq: 9, message: {} },
  { type: 'CREDIT', name: 'credit', description: 'batches below 96 may be sent', seq: 10, message: { acq: 3, upTo: 96 } },
  { type: 'RESEND', name: 'resend', description: 'send batches 40-41 again', seq: 11, message: { acq: 3, from: 40, to: 42 } },
  { type: 'QUERY_SETTINGS', name: 'query-settings', description: 'transmitter settings of three slots beyond 2^32', seq: 12, message: { slots: Float64Array.of(4294967296 + 5, 4294967296 + 17, 4294967296 + 1000) } },
  { type: 'GET_TELEMETRY', name: 'get-telemetry', description: 'ask for telemetry (empty map)', seq: 13, message: {} },
  { type: 'ACK', name: 'ack-start', description: 'START accepted; acquisition begins at slot 1000000', seq: 8, message: { re: 3, info: { acq: 3, firstSlot: 1000000, firstBatch: 0 } } },
  { type: 'SETTINGS', name: 'settings', description: 'Z/1/signal, X/0/decoy, vacuum slot expired', seq: 21, message: { re: 12, settings: Uint8Array.of(0x01, 0x06, 0x80) } },
  {
    type: 'TELEMETRY',
    name: 'telemetry-rx',
    description: 'periodic receiver telemetry',
    seq: 30,
    message: { t: 120500, slot: 120000000000, acquiring: true, rates: [151000.5, 149800, 16750.25, 16810], temps: { detector: -40.25, board: 31.5 }, biasV: 48.5, overflow: 0 },
  },
  {
    type: 'DETECTIONS',
    name: 'detections',
    description: 'batch 5 of acquisition 3 covering slots [5242880, 6291456): Z0 click, X1 click, Z0+Z1 double click',
    seq: 40,
    message: new DetectionBatch(3, 5, 5242880, 6291456, Float64Array.of(5242881, 5243000, 6291455), Uint8Array.of(0x01, 0x08, 0x03)),
  },
  { type: 'BATCH_LOST', name: 'batch-lost', description: 'batches 2-3 are no longer in the replay buffer', seq: 41, message: { acq: 3, from: 2, to: 4, s: 2097152, e: 4194304 } },
  { type: 'ALARM', name: 'alarm', description: 'detector temperature out of range', seq: 42, message: { code: 'detector-temperature', sev: 'critical', msg: 'detector at -20.0 C, limit -35.0 C', t: 99000 } },
  { type: 'ERROR', name: 'error-version', description: 'a board refusing a host that speaks only major 2', seq: 2, message: { re: 1, code: 'unsupported-version', msg: 'this board implements major 1', majors: [1] } },
];

for (const d of defs) {
  const codec = CODECS[d.type] as { encode(m: unknown): Uint8Array };
  const payload = codec.encode(d.message);
  const code = MessageType[d.type];
  const v: MessageVector = {
    name: d.name,
    description: d.description,
    type: d.type,
    typeCode: code,
    seq: d.seq,
    message: toJson(d.message),
    payload: hex(payload),
    frame: hex(rawFrame(code, d.seq, payload)),
    wire: hex(encodeFrame(code, d.seq, payload)),
  };
  writeFileSync(new URL(`${d.name}.json`, dir), `${JSON.stringify(v, null, 2)}\n`);
}

// Frames a receiver must reject, each for one reason.
const good = rawFrame(MessageType.START, 3, CODECS.START.encode({ acq: 3, credit: 64 }));
const badCrc = good.slice();
badCrc[good.length - 1]! ^= 0x01;
const v2 = rawFrame(MessageType.HELLO, 1, CODECS.HELLO.encode({ v: [2, 0], majors: [2], host: 'future' }), 2);
const badPayload = rawFrame(MessageType.START, 4, CODECS.HELLO.encode({ v: [1, 0], majors: [1], host: 'x' }));
const tagged = rawFrame(MessageType.START, 5, Uint8Array.of(0xc1, 0x00));
const short = Uint8Array.of(1, 4, 3, 0, 0);
const overLong = new Uint8Array(70000).fill(0x55);
const withCrc = (b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(b.length + 4);
  out.set(b);
  writeU32(out, b.length, crc32c(b));
  return out;
};
const rejects: RejectVector[] = [
  { name: 'crc', description: 'START with the last CRC bit flipped', wire: hex(cobsEncode(badCrc)), reason: 'crc' },
  { name: 'truncated', description: 'five bytes: shorter than header and CRC', wire: hex(cobsEncode(short)), reason: 'truncated' },
  { name: 'cobs', description: 'a COBS code byte that runs past the delimiter', wire: '0501020300', reason: 'cobs' },
  { name: 'oversized', description: '70000 non-zero bytes before a delimiter', wire: hex(Uint8Array.from([...overLong, 0])), reason: 'oversized' },
  { name: 'version', description: 'a HELLO in major version 2', wire: hex(cobsEncode(v2)), reason: 'version' },
  { name: 'payload-fields', description: 'a START whose payload is a HELLO map', wire: hex(cobsEncode(badPayload)), reason: 'bad-payload' },
  { name: 'payload-tag', description: 'a START whose payload is a tagged CBOR item (tags are not allowed)', wire: hex(cobsEncode(tagged)), reason: 'bad-payload' },
  { name: 'unknown-type', description: 'a valid envelope of type 0x55, which 1.0 does not define', wire: hex(cobsEncode(withCrc(Uint8Array.of(1, 0x55, 1, 0, 0, 0, 0xa0)))), reason: 'unknown-type' },
];
writeFileSync(new URL('reject.json', dir), `${JSON.stringify(rejects, null, 2)}\n`);
process.stdout.write(`wrote ${defs.length} message vectors and ${rejects.length} reject vectors\n`);
