/**
 * Two link module processes (host/node/link-main.ts), each driving its own emulated
 * board over a real pty, joined by loopback TCP (optionally through a tampering proxy). Both write
 * their own LMDB key store; storesCompared() opens the two after the processes stopped.
 *
 * The emulated source runs at 25 MHz here, with blocks of 2^19 sifted bits and ε_sec = 1e-6 (the
 * bench: 1 GHz, 2^21, 1e-10), so that a block takes about two seconds through a pty and each
 * scenario a few blocks; the receiver's back-pressure is 'stretch' (no event is dropped when the
 * host lags). The protocol and its physics per slot are the same as at 1 GHz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { EmulatedLink, type EmulatedLinkOptions } from '../../firmware-bridge/emulator/spawn.js';
import { KeyStore } from '../../host/km/key-store.js';
import { freePort } from '../../host/bench/ports.js';
import { StorageKey } from '../../host/km/storage-key.js';
import type { BlockReport } from '../../host/qkd-link/module/diagnostics.js';
import { EMULATED_PROTOCOL } from '../../host/qkd-link/module/harness/emulated-link.js';
import { HEADER_BYTES, FrameType, decodeHeader } from '../../host/qkd-link/channel/frame.js';
import { DEFAULT_SECURITY } from '../../host/qkd-link/module/config.js';

const MAIN = fileURLToPath(new URL('../../host/node/link-main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export type Role = 'alice' | 'bob';

export interface LinkEvent {
  readonly event: string;
  readonly [k: string]: unknown;
}

export class ModuleProcess {
  readonly events: LinkEvent[] = [];
  private readonly waiters: Array<{ pred: (e: LinkEvent) => boolean; resolve: (e: LinkEvent) => void }> = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  private constructor(readonly role: Role, readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: LinkEvent;
      try {
        e = JSON.parse(line) as LinkEvent;
      } catch {
        return;
      }
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
  }

  static spawn(role: Role, config: string): ModuleProcess {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, config], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new ModuleProcess(role, child);
  }

  /** The first event (past or future) matching `pred`. */
  waitFor(pred: (e: LinkEvent) => boolean, timeoutMs: number, what: string): Promise<LinkEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.role}: no ${what} within ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-3)).slice(0, 1500)} stderr: ${this.stderr.slice(-800)}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  blocks(): BlockReport[] {
    return this.events.filter((e) => e.event === 'block') as unknown as BlockReport[];
  }

  /** Waits until `n` blocks with outcome `key` (counting from the start of this process). */
  async keyBlocks(n: number, timeoutMs: number): Promise<void> {
    let count = 0;
    await this.waitFor((e) => e.event === 'block' && e.outcome === 'key' && ++count >= n, timeoutMs, `${n} key blocks`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(t);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Channel frames of a byte stream (channel/frame.ts): header, payload, tag of 8·macKeys bytes. */
class FrameSplitter {
  private buf = Buffer.alloc(0);
  private readonly tagBytes = 8 * DEFAULT_SECURITY.macKeys;
  push(chunk: Buffer): Buffer[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= HEADER_BYTES) {
      const total = HEADER_BYTES + decodeHeader(this.buf.subarray(0, HEADER_BYTES)).payloadLength + this.tagBytes;
      if (this.buf.length < total) break;
      out.push(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}

/**
 * A TCP proxy between Bob and Alice that can tamper with Bob's frames on their way to Alice: flip
 * a bit of the next data frame (a bad tag), or send an earlier data frame again after the next one
 * (a replay, with its original, valid tag).
 */
export class TamperProxy {
  private readonly sockets = new Set<Socket>();
  /** Flip a bit of the next data frame Bob sends. */
  corruptNext = false;
  /** Resend the previous data frame Bob sent, right after the next one. */
  replayNext = false;
  private constructor(readonly server: Server, readonly port: number) {}

  static async start(target: number): Promise<TamperProxy> {
    const held: { proxy?: TamperProxy } = {};
    const server = createServer((down) => {
      const proxy = held.proxy!;
      const up = connect(target, '127.0.0.1');
      proxy.sockets.add(down).add(up);
      const frames = new FrameSplitter();
      let previous: Buffer | undefined;
      down.on('data', (chunk: Buffer) => {
        for (let frame of frames.push(chunk)) {
          const data = decodeHeader(frame.subarray(0, HEADER_BYTES)).type === FrameType.Data;
          if (data && proxy.corruptNext) {
            proxy.corruptNext = false;
            frame = Buffer.from(frame);
            frame[frame.length - 1]! ^= 0x01;
          }
          up.write(frame);
          if (data && proxy.replayNext && previous) {
            proxy.replayNext = false;
            up.write(previous);
          }
          if (data) previous = Buffer.from(frame);
        }
      });
      up.on('data', (chunk: Buffer) => down.write(chunk));
      const end = () => {
        down.destroy();
        up.destroy();
      };
      down.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    held.proxy = new TamperProxy(server, (server.address() as { port: number }).port);
    return held.proxy;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface PairOptions extends EmulatedLinkOptions {
  readonly siftedBits?: number;
  readonly security?: Record<string, number>;
  readonly proxy?: boolean;
}

export interface StoreComparison {
  readonly alice: number;
  readonly bob: number;
  /** IDs held by both with identical bytes. */
  readonly identical: number;
  readonly differing: number;
  readonly onlyAlice: number;
  readonly onlyBob: number;
}

export class LinkPair {
  alice: ModuleProcess | undefined;
  bob: ModuleProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly boards: EmulatedLink,
    readonly configs: Record<Role, string>,
    readonly proxy: TamperProxy | undefined,
  ) {}

  static async start(o: PairOptions = {}): Promise<LinkPair> {
    const dir = mkdtempSync(join(tmpdir(), 'qkdn-link-hil-'));
    let boards: EmulatedLink | undefined;
    let proxy: TamperProxy | undefined;
    try {
      boards = await EmulatedLink.start({ seed: 11, distanceKm: 10, backpressure: 'stretch', ...o });
      const port = await freePort();
      proxy = o.proxy ? await TamperProxy.start(port) : undefined;
      writeFileSync(join(dir, 'psk.bin'), randomBytes(1 << 18), { mode: 0o600 });
      const common = {
        linkId: 'HIL-A~HIL-B',
        psk: { file: join(dir, 'psk.bin') },
        protocol: { ...EMULATED_PROTOCOL, clockHz: 25_000_000 },
        block: { siftedBits: o.siftedBits ?? 1 << 19, maxInFlight: 2, timeoutMs: 20_000 },
        security: { epsSec: 1e-6, ...o.security },
        workers: 1,
      };
      const configs = {} as Record<Role, string>;
      for (const role of ['alice', 'bob'] as const) {
        const cfg = {
          ...common,
          role,
          node: role === 'alice' ? 'HIL-A' : 'HIL-B',
          peer: role === 'alice' ? 'HIL-B' : 'HIL-A',
          dataDir: join(dir, role),
          board: { port: role === 'alice' ? boards.tx.path : boards.rx.path },
          address: { host: '127.0.0.1', port: role === 'bob' && proxy ? proxy.port : port },
        };
        configs[role] = join(dir, `${role}.yaml`);
        writeFileSync(configs[role], stringify(cfg));
      }
      return new LinkPair(dir, boards, configs, proxy);
    } catch (e) {
      await proxy?.close();
      await boards?.close();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async startEnd(role: Role): Promise<ModuleProcess> {
    const p = ModuleProcess.spawn(role, this.configs[role]);
    this[role] = p;
    await p.waitFor((e) => e.event === 'ready' || e.event === 'fatal', 30_000, 'ready');
    const fatal = p.events.find((e) => e.event === 'fatal');
    if (fatal) throw new Error(`${role} failed to start: ${JSON.stringify(fatal)}`);
    return p;
  }

  async startBoth(): Promise<void> {
    await this.startEnd('alice');
    await this.startEnd('bob');
  }

  /** Opens both stores (the processes must have stopped) and compares every link unit. */
  async storesCompared(): Promise<StoreComparison> {
    const read = async (role: Role): Promise<Map<string, Buffer>> => {
      const dataDir = join(this.dir, role);
      const store = await KeyStore.open({ path: join(dataDir, 'km'), nodeId: role === 'alice' ? 'HIL-A' : 'HIL-B', storageKey: StorageKey.open(join(dataDir, 'storage.key')) });
      const out = new Map<string, Buffer>();
      try {
        for (const r of store.records()) if (r.origin === 'link') out.set(r.id, Buffer.from(store.readKey(r.id)));
      } finally {
        await store.close();
      }
      return out;
    };
    const a = await read('alice');
    const b = await read('bob');
    let identical = 0;
    let differing = 0;
    for (const [id, bytes] of a) {
      const other = b.get(id);
      if (!other) continue;
      if (other.equals(bytes)) identical++;
      else differing++;
    }
    return { alice: a.size, bob: b.size, identical, differing, onlyAlice: [...a.keys()].filter((k) => !b.has(k)).length, onlyBob: [...b.keys()].filter((k) => !a.has(k)).length };
  }

  async stopEnds(): Promise<void> {
    await this.bob?.stop();
    await this.alice?.stop();
  }

  /**
   * Stops both ends, restarts them until both have resynchronised, and stops them again. A stop can
   * land between the receiver's commit and the transmitter's release of a block (two-phase commit):
   * the transmitter then holds it as pending and releases or destroys it by the peer's word at the
   * next synchronisation. The guarantee under test is agreement after that, so compare stores after
   * settle(). Returns the processes that ran before, whose reports the caller may still need.
   */
  async settle(): Promise<{ alice: ModuleProcess; bob: ModuleProcess }> {
    const before = { alice: this.alice!, bob: this.bob! };
    await this.stopEnds();
    await this.startBoth();
    const synchronised = (e: LinkEvent): boolean => e.event === 'state' && e.state === 'synchronised';
    await Promise.all([this.alice!.waitFor(synchronised, 30_000, 'resynchronisation'), this.bob!.waitFor(synchronised, 30_000, 'resynchronisation')]);
    await this.stopEnds();
    return before;
  }

  async close(): Promise<void> {
    await this.bob?.kill().catch(() => undefined);
    await this.alice?.kill().catch(() => undefined);
    await this.proxy?.close();
    await this.boards.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
