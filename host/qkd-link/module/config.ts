/**
 * Configuration of one end of a QKD link (`node --import tsx host/node/link-main.ts <file>` for a standalone end, or a node link's `source: {type: qkd, …}`; YAML or JSON). Both
 * ends carry the same protocol section; the session checks at every connection that they agree
 * (a digest in sync.state). Every value is checked here, and a bad one names its key.
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

function obj(v: unknown, key: string): Raw {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LinkConfigError(key, 'expected a map');
  return v as Raw;
}

function str(v: unknown, key: string, def?: string): string {
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new LinkConfigError(key, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function vacuumBoundOf(v: unknown): VacuumBound {
  const b = str(v, 'security.vacuumBound', DEFAULT_SECURITY.vacuumBound);
  if (b !== 'printed' && b !== 'clamped') throw new LinkConfigError('security.vacuumBound', `expected printed or clamped, got ${b}`);
  return b;
}

function num(v: unknown, key: string, def: number, min: number, max: number, integer = false): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new LinkConfigError(key, `expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function triple(v: unknown, key: string, def: readonly [number, number, number]): [number, number, number] {
  if (v === undefined) return [...def];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
    throw new LinkConfigError(key, 'expected three non-negative numbers (signal, decoy, vacuum)');
  }
  return [v[0], v[1], v[2]];
}

function psk(v: unknown, base: string): Uint8Array {
  const o = obj(v, 'psk');
  let bytes: Uint8Array;
  if (typeof o.hex === 'string') {
    if (!/^([0-9a-fA-F]{2})+$/.test(o.hex)) throw new LinkConfigError('psk.hex', 'expected an even number of hex digits');
    bytes = Uint8Array.from(Buffer.from(o.hex, 'hex'));
  } else if (typeof o.file === 'string') {
    try {
      bytes = Uint8Array.from(readFileSync(resolve(base, o.file)));
    } catch (e) {
      throw new LinkConfigError('psk.file', `cannot read ${o.file}: ${(e as Error).message}`);
    }
  } else throw new LinkConfigError('psk', 'expected { hex: ... } or { file: ... }');
  if (bytes.length < 1024) throw new LinkConfigError('psk', `${bytes.length} bytes is too short to boot the link: at least 1024`);
  return bytes;
}

/** Checks a parsed configuration; relative paths resolve against `base`. */
export function parseLinkConfig(raw: unknown, base = process.cwd(), cores = 1): LinkConfig {
  const r = obj(raw, '(top level)');
  const role = str(r.role, 'role');
  if (role !== 'alice' && role !== 'bob') throw new LinkConfigError('role', `expected alice or bob, got ${role}`);
  const p = obj(r.protocol, 'protocol');
  const mu = triple(p.mu, 'protocol.mu', DEFAULT_PROTOCOL.mu);
  const pMu = triple(p.pMu, 'protocol.pMu', DEFAULT_PROTOCOL.pMu);
  if (!(mu[1] > mu[2] && mu[0] > mu[1] + mu[2])) throw new LinkConfigError('protocol.mu', `need μ1 > μ2 + μ3 and μ2 > μ3, got ${mu.join(', ')}`);
  if (Math.abs(pMu[0] + pMu[1] + pMu[2] - 1) > 1e-9 || pMu.some((x) => x <= 0)) throw new LinkConfigError('protocol.pMu', 'expected three positive probabilities summing to 1');
  const protocol: ProtocolConfig = {
    clockHz: num(p.clockHz, 'protocol.clockHz', DEFAULT_PROTOCOL.clockHz, 1e6, 1e10, true),
    mu,
    pMu,
    pZ: num(p.pZ, 'protocol.pZ', DEFAULT_PROTOCOL.pZ, 0.01, 0.99),
    rxPZ: num(p.rxPZ, 'protocol.rxPZ', DEFAULT_PROTOCOL.rxPZ, 0.01, 0.99),
    deadNs: num(p.deadNs, 'protocol.deadNs', DEFAULT_PROTOCOL.deadNs, 0, 1e6),
    gateNs: num(p.gateNs, 'protocol.gateNs', DEFAULT_PROTOCOL.gateNs, 0.01, 100),
    biasV: num(p.biasV, 'protocol.biasV', DEFAULT_PROTOCOL.biasV, 0, 200),
    batchSlots: num(p.batchSlots, 'protocol.batchSlots', DEFAULT_PROTOCOL.batchSlots, 1024, 2 ** 32, true),
  };
  const b = obj(r.block, 'block');
  const block: BlockConfig = {
    siftedBits: num(b.siftedBits, 'block.siftedBits', DEFAULT_BLOCK.siftedBits, 1 << 14, 1 << 24, true),
    maxInFlight: num(b.maxInFlight, 'block.maxInFlight', DEFAULT_BLOCK.maxInFlight, 1, 16, true),
    timeoutMs: num(b.timeoutMs, 'block.timeoutMs', DEFAULT_BLOCK.timeoutMs, 100, 600_000, true),
  };
  const s = obj(r.security, 'security');
  const security: SecurityConfig = {
    epsSec: num(s.epsSec, 'security.epsSec', DEFAULT_SECURITY.epsSec, 1e-30, 0.01),
    epsCor: num(s.epsCor, 'security.epsCor', DEFAULT_SECURITY.epsCor, 1e-30, 0.01),
    qberMax: num(s.qberMax, 'security.qberMax', DEFAULT_SECURITY.qberMax, 0.001, 0.2),
    macKeys: num(s.macKeys, 'security.macKeys', DEFAULT_SECURITY.macKeys, 1, 4, true),
    framesPerKey: num(s.framesPerKey, 'security.framesPerKey', DEFAULT_SECURITY.framesPerKey, 1, 4096, true),
    vacuumBound: vacuumBoundOf(s.vacuumBound),
  };
  const a = obj(r.auth, 'auth');
  const auth: AuthConfig = {
    shareBits: num(a.shareBits, 'auth.shareBits', DEFAULT_AUTH.shareBits, 0, 1 << 24, true),
    lowWaterFrames: num(a.lowWaterFrames, 'auth.lowWaterFrames', DEFAULT_AUTH.lowWaterFrames, 0, 1 << 30, true),
  };
  const board = obj(r.board, 'board');
  const address = obj(r.address, 'address');
  const unitBits = num(r.unitBits, 'unitBits', 256, 8, 1 << 16, true);
  if (unitBits % 8 !== 0) throw new LinkConfigError('unitBits', 'must be a multiple of 8');
  const node = str(r.node, 'node');
  const peer = str(r.peer, 'peer');
  if (node === peer) throw new LinkConfigError('peer', 'must differ from node');
  return {
    linkId: str(r.linkId, 'linkId'),
    role,
    node,
    peer,
    dataDir: resolve(base, str(r.dataDir, 'dataDir')),
    board: { port: str(board.port, 'board.port'), ...(board.serial !== undefined ? { serial: str(board.serial, 'board.serial') } : {}) },
    address: { host: str(address.host, 'address.host', '127.0.0.1'), port: num(address.port, 'address.port', 7300, 0, 65535, true) },
    psk: psk(r.psk, base),
    unitBits,
    protocol,
    block,
    security,
    auth,
    workers: num(r.workers, 'workers', Math.max(1, cores), 1, 64, true),
    ...(r.passphraseEnv !== undefined ? { passphraseEnv: str(r.passphraseEnv, 'passphraseEnv') } : {}),
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
