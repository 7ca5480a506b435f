/**
 * Writes session-v1.json: one example of every session message, as fields and as CBOR bytes.
 * Run `npx tsx host/qkd-link/session/vectors/generate.ts` after changing messages.ts, and review
 * the diff: a changed vector is a changed wire format (bump SESSION_VERSION if it is not additive).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeMessage, type SessionMessage } from '../messages.js';
import { encodeSlotDeltas, encodeU32s, pack2, packBits } from '../packing.js';

export const EXAMPLES: SessionMessage[] = [
  { t: 'sift.announce', b: 7, acq: 3, s: 5242880, e: 6291456, n: 4, d: encodeSlotDeltas(5242880, [5242892, 5242932, 5242939, 5243942]), bb: packBits([0, 1, 0, 0]) },
  { t: 'sift.reply', b: 7, keep: packBits([1, 0, 1, 1]), cls: pack2([0, 1, 2]) },
  { t: 'pe.disclose', b: 7, bits: Uint8Array.of(0b1) },
  { t: 'pe.result', b: 7, nZ: [98000, 24000, 1900], nX: [1200, 340, 25], eX: [24, 11, 12], go: true, why: '', qec: 0.0213 },
  { t: 'ec.syndromes', b: 7, qec: 0.0213, code: 4, punctured: 812, frames: 2, keyBits: 118000, syn: Uint8Array.of(0xde, 0xad, 0xbe, 0xef), tagBytes: 8, tags: Uint8Array.from({ length: 32 }, (_, i) => i) },
  { t: 'ec.ask', b: 7, f: 1, pos: encodeU32s([17, 4093, 65000]) },
  { t: 'ec.reveal', b: 7, f: 1, bits: packBits([1, 0, 1]) },
  { t: 'ec.done', b: 7, ok: packBits([1, 1]), leak: 24510, errZ: [2010, 530, 48] },
  { t: 'ver.tag', b: 7, keys: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), tag: Uint8Array.of(9, 10, 11, 12, 13, 14, 15, 16) },
  { t: 'ver.result', b: 7, ok: true },
  { t: 'pa.seed', b: 7, n: 16, m: 8, seed: Uint8Array.of(0xa5, 0x5a, 0x0f) },
  { t: 'commit.ready', b: 7, u0: 4096, n: 3, auth: 1024 },
  { t: 'commit.done', b: 7, u0: 4096, n: 3 },
  { t: 'abort', b: 7, code: 'ERR_LINK_QBER', why: 'X-basis QBER 14.2 % above the 11 % limit' },
  { t: 'sync.state', b: 0, committed: 6, last: 7, nextUnit: 4096, pending: [7], cfg: '3f2a9c0d1e4b5a67' },
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
