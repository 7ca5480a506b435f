/**
 * Starts the emulated aux I/O board as its own process on a fresh pty, and drives its inputs
 * (lid, temperatures) from the bench. close() removes the process, the pty and the link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PtyError } from '../errors.js';
import type { FirmataBoardState } from './firmata-board.js';
import type { AuxControlMessage, AuxControlRequest } from './firmata-main.js';

const MAIN = fileURLToPath(new URL('./firmata-main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export class AuxEmulator {
  readonly path: string;
  /** Latest relay and LED state, updated as the host switches them. */
  outputs: FirmataBoardState | undefined;
  onOutputs: ((s: FirmataBoardState) => void) | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: { state: FirmataBoardState; at: number }) => void>();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    this.path = join(dir, 'aux');
    this.exited = new Promise((r) => child.once('exit', () => r()));
    child.on('message', (m: AuxControlMessage) => {
      if (m.op === 'reply') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      } else if (m.op === 'outputs') {
        this.outputs = m.state;
        this.onOutputs?.(m.state);
      }
    });
  }

  static async start(model = 'QKDN-AUX-UNO'): Promise<AuxEmulator> {
    const dir = mkdtempSync(join(tmpdir(), 'qkdn-aux-'));
    const child = spawn(process.execPath, ['--import', TSX, MAIN, JSON.stringify({ link: join(dir, 'aux'), model })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new PtyError('emulated aux board did not start within 20 s')), 20_000);
        child.once('exit', (code) => reject(new PtyError(`emulated aux board exited with code ${code}`)));
        child.once('message', (m: AuxControlMessage) => {
          clearTimeout(t);
          if (m.op === 'ready') resolve();
          else reject(new PtyError(m.op === 'failed' ? m.error : `unexpected ${m.op}`));
        });
      });
    } catch (e) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return new AuxEmulator(child, dir);
  }

  private request(r: AuxControlRequest): Promise<{ state: FirmataBoardState; at: number }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ ...r, id });
    });
  }

  /** Opens or closes the enclosure lid; resolves with the board's clock at the change (ms epoch). */
  async setLid(open: boolean): Promise<number> {
    return (await this.request({ op: 'lid', open })).at;
  }

  async setTemperatures(t: { detectorC?: number; enclosureC?: number }): Promise<void> {
    await this.request({ op: 'temperatures', ...t });
  }

  /** Pulls the cable: the pty goes away; the host's reads see a hangup. */
  async unplug(): Promise<void> {
    await this.request({ op: 'unplug' });
  }

  async state(): Promise<FirmataBoardState> {
    return (await this.request({ op: 'state' })).state;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.send({ op: 'exit', id: 0 });
      const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
