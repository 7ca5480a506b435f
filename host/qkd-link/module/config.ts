/**
 * Configuration of one end of a QKD link (`node --import tsx host/node/link-main.ts <file>` for a standalone end, or a node link's `source: {type: qkd, …}`; YAML or JSON). Both
 * ends carry the same protocol section; the session checks at every connection that they agree
 * (a digest in sync.state). Every value is checked here (a JSON schema, then the relations between
 * fields), and a bad one names its key.
 *
 *   linkId: A~B                 # the same at both ends; unit IDs derive from it
 *   role: alice                 # alice = transmitter (listens), bob = receiver (connects)
 *   node: A                     # this node; the key store belongs to it
 *   peer: B
 *   dataDir: ./data/A           # link state (auth ledger, pending blocks) and the key store
 *   board: { port: /dev/serial/by-id/..., serial: EMU-TX-1 }   # or usb:VID:PID[:SERIAL]
 *   address: { host: 127.0.0.1, port: 7300 }   # alice: where to listen; bob: where to connect
 *   psk: { file: ./psk.bin }    # or { hex: ... }: the pre-shared secret that boots authentication
 */
import { DEFAULT_VACUUM_BOUND, type VacuumBound } from '../estimation/finite-key.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { Ajv, type ErrorObject } from 'ajv';
import { LinkConfigError } from './errors.js';

import type { LinkRole } from '../channel/channel.js';

export type { LinkRole };

/** What the transmitter sends and how the receiver's board is set: both ends need it for the decoy analysis. */
export interface ProtocolConfig {
  readonly clockHz: number;
  /** Mean photon numbers: signal, decoy, vacuum (μ1 > μ2 + μ3, μ2 > μ3 >= 0). */
  readonly mu: readonly [number, number, number];
  /** Probability of each intensity class. */
  readonly pMu: readonly [number, number, number];
  /** Probability of the Z (key) basis at the transmitter. */
  readonly pZ: number;
  /** Receiver: passive splitter ratio toward Z, detector dead time, gate, bias. */
  readonly rxPZ: number;
  readonly deadNs: number;
  readonly gateNs: number;
  readonly biasV: number;
  /** Slots per detection batch of the receiver board. */
  readonly batchSlots: number;
}

export interface BlockConfig {
  /** Target sifted key-basis bits per block (the finite-key block size). */
  readonly siftedBits: number;
  /** Blocks in the pipeline at once (each end). */
  readonly maxInFlight: number;
  /** Longest wait for a peer's message before the block is abandoned. */
  readonly timeoutMs: number;
}

export interface SecurityConfig {
  readonly epsSec: number;
  readonly epsCor: number;
  /** Abort a block whose test-basis QBER exceeds this. */
  readonly qberMax: number;
  /** 64-bit keys of the MAC's polynomial hash (tag = 8·macKeys bytes). */
  readonly macKeys: number;
  /** Frames that share one MAC hash key (each frame has its own one-time tag mask). */
  readonly framesPerKey: number;
  /**
   * How the vacuum bound enters Lim et al.'s Eq. (3): 'printed' (default, the paper's formula)
   * or 'clamped' at 0 (sound, more key from small blocks; estimation/README.md).
   */
  readonly vacuumBound: VacuumBound;
}

export interface AuthConfig {
  /** Bits of each block's key given to the authentication ledger (besides the bits beyond whole units). */
  readonly shareBits: number;
  /** Give the share only while fewer frames than this remain in either direction. */
  readonly lowWaterFrames: number;
}

export interface LinkConfig {
  readonly linkId: string;
  readonly role: LinkRole;
  readonly node: string;
  readonly peer: string;
  readonly dataDir: string;
  readonly board: { readonly port: string; readonly serial?: string };
  readonly address: { readonly host: string; readonly port: number };
  readonly psk: Uint8Array;
  readonly unitBits: number;
  readonly protocol: ProtocolConfig;
  readonly block: BlockConfig;
  readonly security: SecurityConfig;
  readonly auth: AuthConfig;
  /** Worker threads for reconciliation and privacy amplification (default: cores, at least 1). */
  readonly workers: number;
  /** Environment variable holding the key store's passphrase (none: raw key file, mode 600). */
  readonly passphraseEnv?: string;
}

/**
 * Defaults chosen for the finite-key rate of blocks of 2^20-2^22 sifted bits at 10-50 km (1 GHz,
 * the emulated board's detector): a sweep of the Lim et al. bound over μ, p_μ and the two basis
 * biases puts the optimum near μ = 0.45/0.2/0 with the decoy sent most often (its pulses carry
 * key too, and a well-populated decoy class tightens the single-photon bound), pZ = 0.85 at the
 * transmitter and 0.8 at the receiver's splitter: about 20 % above μ 0.5/0.2/0, p 0.5/0.3/0.2,
 * pZ 0.7/0.7, while the asymptotically favoured pZ = 0.9-0.95 leaves too few test events.
 */
export const DEFAULT_PROTOCOL: ProtocolConfig = {
  clockHz: 1_000_000_000,
  mu: [0.45, 0.2, 0],
  pMu: [0.3, 0.5, 0.2],
  pZ: 0.85,
  rxPZ: 0.8,
  deadNs: 50,
  gateNs: 0.5,
  biasV: 48,
  batchSlots: 1 << 22,
};

export const DEFAULT_BLOCK: BlockConfig = { siftedBits: 1 << 21, maxInFlight: 3, timeoutMs: 30_000 };
export const DEFAULT_SECURITY: SecurityConfig = { epsSec: 1e-10, epsCor: 1e-15, qberMax: 0.11, macKeys: 2, framesPerKey: 64, vacuumBound: DEFAULT_VACUUM_BOUND };
export const DEFAULT_AUTH: AuthConfig = { shareBits: 16_384, lowWaterFrames: 4096 };

type Raw = Record<string, unknown>;

const str256 = { type: 'string', minLength: 1, maxLength: 256 } as const;
const num = (minimum: number, maximum: number) => ({ type: 'number', minimum, maximum }) as const;
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;
const triple = { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 3, maxItems: 3 } as const;

/**
 * Shapes, types and ranges of a link end's configuration (ajv, as the node's configuration is
 * checked); what relates fields to each other (μ ordering, probabilities summing to 1, node and
 * peer) is checked after it. Keys it does not name are left alone, as the node passes its link
 * source's options through.
 */
const LINK_SCHEMA = {
  type: 'object',
  required: ['linkId', 'role', 'node', 'peer', 'dataDir', 'board', 'psk'],
  properties: {
    linkId: str256,
    role: { type: 'string', enum: ['alice', 'bob'] },
    node: str256,
    peer: str256,
    dataDir: str256,
    board: { type: 'object', required: ['port'], properties: { port: str256, serial: str256 } },
    address: { type: 'object', properties: { host: str256, port: int(0, 65535) } },
    psk: {
      type: 'object',
      properties: { hex: { type: 'string', pattern: '^([0-9a-fA-F]{2})+$' }, file: str256 },
      anyOf: [{ required: ['hex'] }, { required: ['file'] }],
    },
    unitBits: { ...int(8, 1 << 16), multipleOf: 8 },
    workers: int(1, 64),
    passphraseEnv: str256,
    protocol: {
      type: 'object',
      properties: {
        clockHz: int(1e6, 1e10),
        mu: triple,
        pMu: triple,
        pZ: num(0.01, 0.99),
        rxPZ: num(0.01, 0.99),
        deadNs: num(0, 1e6),
        gateNs: num(0.01, 100),
        biasV: num(0, 200),
        batchSlots: int(1024, 2 ** 32),
      },
    },
    block: {
      type: 'object',
      properties: { siftedBits: int(1 << 14, 1 << 24), maxInFlight: int(1, 16), timeoutMs: int(100, 600_000) },
    },
    security: {
      type: 'object',
      properties: {
        epsSec: num(1e-30, 0.01),
        epsCor: num(1e-30, 0.01),
        qberMax: num(0.001, 0.2),
        macKeys: int(1, 4),
        framesPerKey: int(1, 4096),
        vacuumBound: { type: 'string', enum: ['printed', 'clamped'] },
      },
    },
    auth: { type: 'object', properties: { shareBits: int(0, 1 << 24), lowWaterFrames: int(0, 1 << 30) } },
  },
} as const;

const validateLink = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile<Raw>(LINK_SCHEMA);

/** The first schema error as a LinkConfigError naming its key (`protocol.mu`, `psk.hex`, `role`). */
function schemaError(errors: readonly ErrorObject[]): LinkConfigError {
  // The branches of an anyOf that all failed say less than the anyOf itself (which names the choice).
  const e = errors.find((x) => !x.schemaPath.includes('/anyOf/')) ?? errors[0]!;
  const path = e.instancePath.split('/').filter((x) => x.length > 0);
  if (e.keyword === 'required') path.push(String((e.params as { missingProperty: string }).missingProperty));
  const key = path.join('.').replace(/\.(\d+)$/, '') || '(top level)';
  const what = e.keyword === 'anyOf' && key === 'psk' ? 'expected { hex: ... } or { file: ... }' : `${e.message ?? 'invalid'}${e.keyword === 'type' || e.keyword === 'enum' || e.keyword === 'minimum' || e.keyword === 'maximum' ? `, got ${JSON.stringify(valueAt(e.instancePath))}` : ''}`;
  return new LinkConfigError(key, what);
}

/** Set while a configuration is validated, so that errors can quote the offending value. */
let checking: unknown;

function valueAt(pointer: string): unknown {
  let v = checking;
  for (const part of pointer.split('/').slice(1)) v = typeof v === 'object' && v !== null ? (v as Raw)[part] : undefined;
  return v;
}

/** The key of the first NaN in a parsed configuration, if any. */
function findNaN(v: unknown, key: string): string | undefined {
  if (typeof v === 'number') return Number.isNaN(v) ? key : undefined;
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const found = findNaN(x, Array.isArray(v) ? key : key ? `${key}.${k}` : k);
    if (found !== undefined) return found;
  }
  return undefined;
}

function psk(o: Raw, base: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof o.hex === 'string') bytes = Uint8Array.from(Buffer.from(o.hex, 'hex'));
  else {
    const file = o.file as string;
    try {
      bytes = Uint8Array.from(readFileSync(resolve(base, file)));
    } catch (e) {
      throw new LinkConfigError('psk.file', `cannot read ${file}: ${(e as Error).message}`);
    }
  }
  if (bytes.length < 1024) throw new LinkConfigError('psk', `${bytes.length} bytes is too short to boot the link: at least 1024`);
  return bytes;
}

/** Checks a parsed configuration; relative paths resolve against `base`. */
export function parseLinkConfig(raw: unknown, base = process.cwd(), cores = 1): LinkConfig {
  checking = raw;
  const valid = validateLink(raw);
  checking = undefined;
  if (!valid) throw schemaError(validateLink.errors ?? []);
  const r = raw as unknown as Raw;
  // The schema's ranges let NaN through (every comparison with it is false); YAML can spell it.
  const nan = findNaN(r, '');
  if (nan !== undefined) throw new LinkConfigError(nan, 'expected a number, got NaN');
  const sub = (k: string): Raw => (r[k] ?? {}) as Raw;
  const p = sub('protocol');
  const pick = <T>(o: Raw, k: string, def: T): T => (o[k] === undefined ? def : (o[k] as T));
  const mu = [...pick<readonly number[]>(p, 'mu', DEFAULT_PROTOCOL.mu)] as [number, number, number];
  const pMu = [...pick<readonly number[]>(p, 'pMu', DEFAULT_PROTOCOL.pMu)] as [number, number, number];
  if (!(mu[1] > mu[2] && mu[0] > mu[1] + mu[2])) throw new LinkConfigError('protocol.mu', `need μ1 > μ2 + μ3 and μ2 > μ3, got ${mu.join(', ')}`);
  if (Math.abs(pMu[0] + pMu[1] + pMu[2] - 1) > 1e-9 || pMu.some((x) => x <= 0)) throw new LinkConfigError('protocol.pMu', 'expected three positive probabilities summing to 1');
  const protocol: ProtocolConfig = {
    clockHz: pick(p, 'clockHz', DEFAULT_PROTOCOL.clockHz),
    mu,
    pMu,
    pZ: pick(p, 'pZ', DEFAULT_PROTOCOL.pZ),
    rxPZ: pick(p, 'rxPZ', DEFAULT_PROTOCOL.rxPZ),
    deadNs: pick(p, 'deadNs', DEFAULT_PROTOCOL.deadNs),
    gateNs: pick(p, 'gateNs', DEFAULT_PROTOCOL.gateNs),
    biasV: pick(p, 'biasV', DEFAULT_PROTOCOL.biasV),
    batchSlots: pick(p, 'batchSlots', DEFAULT_PROTOCOL.batchSlots),
  };
  const b = sub('block');
  const block: BlockConfig = {
    siftedBits: pick(b, 'siftedBits', DEFAULT_BLOCK.siftedBits),
    maxInFlight: pick(b, 'maxInFlight', DEFAULT_BLOCK.maxInFlight),
    timeoutMs: pick(b, 'timeoutMs', DEFAULT_BLOCK.timeoutMs),
  };
  const s = sub('security');
  const security: SecurityConfig = {
    epsSec: pick(s, 'epsSec', DEFAULT_SECURITY.epsSec),
    epsCor: pick(s, 'epsCor', DEFAULT_SECURITY.epsCor),
    qberMax: pick(s, 'qberMax', DEFAULT_SECURITY.qberMax),
    macKeys: pick(s, 'macKeys', DEFAULT_SECURITY.macKeys),
    framesPerKey: pick(s, 'framesPerKey', DEFAULT_SECURITY.framesPerKey),
    vacuumBound: pick<VacuumBound>(s, 'vacuumBound', DEFAULT_SECURITY.vacuumBound),
  };
  const a = sub('auth');
  const auth: AuthConfig = {
    shareBits: pick(a, 'shareBits', DEFAULT_AUTH.shareBits),
    lowWaterFrames: pick(a, 'lowWaterFrames', DEFAULT_AUTH.lowWaterFrames),
  };
  const board = sub('board');
  const address = sub('address');
  const node = r.node as string;
  const peer = r.peer as string;
  if (node === peer) throw new LinkConfigError('peer', 'must differ from node');
  return {
    linkId: r.linkId as string,
    role: r.role as LinkRole,
    node,
    peer,
    dataDir: resolve(base, r.dataDir as string),
    board: { port: board.port as string, ...(board.serial !== undefined ? { serial: board.serial as string } : {}) },
    address: { host: pick(address, 'host', '127.0.0.1'), port: pick(address, 'port', 7300) },
    psk: psk(sub('psk'), base),
    unitBits: pick(r, 'unitBits', 256),
    protocol,
    block,
    security,
    auth,
    workers: pick(r, 'workers', Math.max(1, cores)),
    ...(r.passphraseEnv !== undefined ? { passphraseEnv: r.passphraseEnv as string } : {}),
  };
}

export function loadLinkConfig(path: string, cores = 1): LinkConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LinkConfigError('(file)', `cannot read ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new LinkConfigError('(file)', `${path} is not YAML or JSON: ${(e as Error).message}`);
  }
  return parseLinkConfig(raw, dirname(resolve(path)), cores);
}

/**
 * Digest of what both ends must agree on: the protocol, block size, security parameters, unit
 * size and authentication layout. Sent in sync.state; a mismatch stops the link.
 */
export function agreementDigest(c: LinkConfig): string {
  const v = { linkId: c.linkId, unitBits: c.unitBits, p: c.protocol, b: c.block.siftedBits, s: c.security, a: c.auth };
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}
