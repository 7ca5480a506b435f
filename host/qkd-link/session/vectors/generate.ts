/**
 * Writes session-v1.json: one example of every session message, as fields and as CBOR bytes.
 * Run `npx tsx host/qkd-link/session/vectors/generate.ts` after changing messages.ts, and review
 * the diff: a changed vector is a changed wire format (bump SESSION_VERSION if it is not additive).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeMessage, type SessionMessage } from '../messages.js';

const u32le = (xs: number[]): Uint8Array => {
  const out = new Uint8Array(xs.length * 4);
  const dv = new DataView(out.buffer);
  xs.forEach((x, i) => dv.setUint32(4 * i, x, true));
  return out;
};

export const EXAMPLES: SessionMessage[] = [
  { t: 'sift.announce', b: 7, acq: 3, s: 5242880, e: 6291456, d: u32le([12, 40, 7, 1003]), bb: Uint8Array.of(0b0101) },
  { t: 'sift.reply', b: 7, keep: Uint8Array.of(0b1101), cls: Uint8Array.of(0, 0, 1, 2) },
  { t: 'pe.disclose', b: 7, bits: Uint8Array.of(0b1) },
  { t: 'pe.result', b: 7, nX: [1200, 340, 25], eX: [24, 11, 12], nZ: [98000, 24000, 1900], go: true, why: '' },
  { t: 'ec.syndrome', b: 7, f: 0, code: 'bsc-r0.80-n65536-v1', shorten: 512, puncture: 1024, syn: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) },
  { t: 'ec.result', b: 7, f: 0, ok: false, it: 50 },
  { t: 'ec.reveal', b: 7, f: 0, round: 1, bits: Uint8Array.of(0x5a, 0x01) },
  { t: 'ver.tag', b: 7, seed: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), tag: Uint8Array.of(9, 10, 11, 12, 13, 14, 15, 16) },
  { t: 'ver.result', b: 7, ok: true },
  { t: 'pa.seed', b: 7, n: 16, m: 8, seed: Uint8Array.of(0xa5, 0x5a, 0x0f) },
  { t: 'commit.ready', b: 7, u0: 4096, n: 3 },
  { t: 'commit.done', b: 7, u0: 4096, n: 3 },
  { t: 'abort', b: 7, code: 'ERR_PE_QBER', why: 'test-basis QBER 14.2 % above the 11 % limit' },
  { t: 'sync.state', b: 0, committed: 6, nextUnit: 4096, pending: [7] },
];

function toJson(m: SessionMessage): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v instanceof Uint8Array ? { hex: Buffer.from(v).toString('hex') } : v]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const vectors = EXAMPLES.map((m) => ({ message: toJson(m), cbor: Buffer.from(encodeMessage(m)).toString('hex') }));
  const path = fileURLToPath(new URL('./session-v1.json', import.meta.url));
  writeFileSync(path, `${JSON.stringify({ version: 1, vectors }, null, 1)}\n`);
  process.stdout.write(`wrote ${vectors.length} vectors to ${path}\n`);
}
