/**
 * The module's two board ports (boards.ts) over the firmware-bridge driver: the transmitter is
 * configured with the link's protocol section and started (its ring buffer then answers settings
 * queries); the receiver is configured and streams detections. A critical alarm, a board reset, a
 * disconnection the driver gives up on, or a refused request is a board fault: blocks in flight are
 * abandoned (ERR_LINK_BOARD_FAULT) and no detection is used until the alarm clears.
 */
import { BoardDriver, type Acquisition, type BoardDriverOptions } from '../../../../firmware-bridge/driver/board-driver.js';
import { BoardError } from '../../../../firmware-bridge/errors.js';
import type { PortSelector } from '../../../../firmware-bridge/driver/serial-line.js';
import { MAX_QUERY_SLOTS, type Alarm } from '../../../../firmware-bridge/protocol/messages.js';
import type { DetectionItem, FaultListener, ReceiverPort, TransmitterPort } from './boards.js';
import type { LinkConfig } from '../config.js';
import { LinkError } from '../errors.js';
import { publishBoard } from '../diagnostics.js';

/** `usb:VID:PID[:SERIAL]` or a device path. */
export function portSelector(port: string): PortSelector {
  const m = /^usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?$/.exec(port);
  if (m) return { usb: { vendorId: m[1]!, productId: m[2]!, ...(m[3] ? { serialNumber: m[3] } : {}) } };
  return { path: port };
}

/** Alarms that mean detections were lost, not that the board's data is wrong. */
const LOSS_ALARMS: ReadonlySet<string> = new Set(['fifo-overflow']);

/** Fault bookkeeping shared by both ports: standing critical alarms and the listeners. */
class FaultWatch {
  private readonly listeners: FaultListener[] = [];
  private readonly critical = new Set<string>();
  private dead = false;

  constructor(private readonly what: string, driver: BoardDriver, linkId: string, board: 'tx' | 'rx') {
    driver.on('alarm', (a: Alarm) => {
      publishBoard({ linkId, board, kind: 'alarm', code: a.code, severity: a.sev, message: a.msg, clear: a.clear === true });
      if (a.clear) {
        this.critical.delete(a.code);
        return;
      }
      if (a.sev !== 'critical') return;
      // Events lost to a full FIFO are reported per batch and only thin the block, like channel
      // loss; the detections that did arrive are still right, so the block goes on.
      if (LOSS_ALARMS.has(a.code)) return;
      this.critical.add(a.code);
      this.fault(`${what} board alarm ${a.code}: ${a.msg}`);
    });
    driver.on('telemetry', (t) => publishBoard({ linkId, board, kind: 'telemetry', temps: t.temps, rates: t.rates, biasV: t.biasV, overflow: t.overflow }));
    driver.on('reset', () => this.fault(`${what} board was reset: its acquisition ended`));
    driver.on('disconnect', (e) => this.fault(`${what} board disconnected: ${e.message}`));
    driver.on('error', (e) => {
      this.dead = true;
      this.fault(`${what} board lost: ${e.message}`);
    });
  }

  get healthy(): boolean {
    return !this.dead && this.critical.size === 0;
  }

  on(l: FaultListener): void {
    this.listeners.push(l);
  }

  fault(message: string): void {
    const err = new LinkError('ERR_LINK_BOARD_FAULT', message);
    for (const l of this.listeners) l(err);
  }
}

function driverOptions(c: LinkConfig, role: 'tx' | 'rx'): BoardDriverOptions {
  return { port: portSelector(c.board.port), role, ...(c.board.serial ? { serial: c.board.serial } : {}), requestTimeoutMs: 2000, retries: 3, reconnectTimeoutMs: 30_000 };
}

/**
 * Runs a request that a board refuses while an acquisition is running ('bad-state'): a module
 * that was killed left its board acquiring, so on a refusal the stale acquisition is stopped and
 * the request made again.
 */
async function leftRunning<T>(driver: BoardDriver, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    if (!(e instanceof BoardError) || e.boardCode !== 'bad-state') throw e;
    await driver.stop();
    return request();
  }
}

/**
 * Opens a board and makes it ready (`setup`); a board that cannot be made ready is closed again
 * and reported as a board fault of `what`.
 */
async function openBoard(c: LinkConfig, role: 'tx' | 'rx', what: string, setup: (driver: BoardDriver) => Promise<void>): Promise<BoardDriver> {
  const driver = await BoardDriver.open(driverOptions(c, role));
  try {
    await setup(driver);
  } catch (e) {
    await driver.close();
    throw new LinkError('ERR_LINK_BOARD_FAULT', `${what} board: ${(e as Error).message}`, { cause: e });
  }
  return driver;
}

/** What both ports share: the driver and its fault watch. */
abstract class BoardPort {
  protected readonly watch: FaultWatch;
  protected constructor(readonly driver: BoardDriver, what: string, linkId: string) {
    this.watch = new FaultWatch(what, driver, linkId, what === 'transmitter' ? 'tx' : 'rx');
  }

  get healthy(): boolean {
    return this.watch.healthy;
  }

  onFault(listener: FaultListener): void {
    this.watch.on(listener);
  }
}

export class BoardTransmitterPort extends BoardPort implements TransmitterPort {
  private constructor(driver: BoardDriver, linkId: string) {
    super(driver, 'transmitter', linkId);
  }

  /** Opens and configures the transmitter board and starts emission. */
  static async open(c: LinkConfig): Promise<BoardTransmitterPort> {
    const p = c.protocol;
    const driver = await openBoard(c, 'tx', 'transmitter', async (d) => {
      await leftRunning(d, () => d.configure({ clockHz: p.clockHz, mu: [...p.mu], pMu: [...p.pMu], pZ: p.pZ }));
      await leftRunning(d, () => d.start());
    });
    return new BoardTransmitterPort(driver, c.linkId);
  }

  readonly maxQuerySlots = MAX_QUERY_SLOTS;

  async querySettingsBytes(start: number, n: number, deltas: Uint8Array, out: Uint8Array, at: number): Promise<void> {
    if (!this.watch.healthy) throw new LinkError('ERR_LINK_BOARD_FAULT', 'transmitter board has a critical alarm standing: its settings are not trusted');
    try {
      // The deltas go to the board as they came from the receiver, never decoded here, and the
      // answer's bytes go to the sifting kernel as they came from the board.
      await this.driver.querySettingsRun(start, n, deltas, out, at);
    } catch (e) {
      throw new LinkError('ERR_LINK_BOARD_FAULT', `transmitter settings query: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.driver.stop().catch(() => undefined);
    await this.driver.close();
  }
}

export class BoardReceiverPort extends BoardPort implements ReceiverPort {
  private acquisition: Acquisition | undefined;
  private closing = false;

  private constructor(driver: BoardDriver, linkId: string) {
    super(driver, 'receiver', linkId);
  }

  static async open(c: LinkConfig): Promise<BoardReceiverPort> {
    const p = c.protocol;
    const driver = await openBoard(c, 'rx', 'receiver', async (d) => {
      await leftRunning(d, () => d.configure({ clockHz: p.clockHz, pZ: p.rxPZ, gateNs: p.gateNs, biasV: p.biasV, deadNs: p.deadNs, batchSlots: p.batchSlots }));
    });
    return new BoardReceiverPort(driver, c.linkId);
  }

  /** Acquisitions one after another: a reset board ends one (a gap says so) and a new one starts. */
  async *detections(): AsyncIterable<DetectionItem> {
    while (!this.closing) {
      try {
        this.acquisition = await this.driver.start();
      } catch (e) {
        if (this.closing) return;
        this.watch.fault(`receiver board refused to start: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      try {
        for await (const item of this.acquisition) {
          if (item.kind === 'gap') yield { kind: 'gap', slotStart: item.slotStart, slotEnd: item.slotEnd, reason: item.reason };
          else {
            // The slots stay undecoded unless the link asks: batches from the wire travel in wire form.
            yield { kind: 'batch', acq: item.acq, slotStart: item.slotStart, slotEnd: item.slotEnd, get slots() { return item.slots; }, masks: item.masks, ...(item.hasDeltas ? { deltas: item.deltas } : {}), ...(item.overflow > 0 ? { lost: item.overflow } : {}) };
          }
          if (this.closing) return;
        }
      } catch (e) {
        if (this.closing) return;
        this.watch.fault(`receiver acquisition ended: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      if (this.closing) return;
      // The acquisition ended on its own (board reset): stop what is left of it and start again.
      await this.driver.stop().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.driver.stop().catch(() => undefined);
    await this.driver.close();
  }
}
