/**
 * QLM, the quantum layer manager: follows this node's QKD link ends and its aux I/O board from what
 * they publish (qkd-link block, state, security and board channels; the aux tamper and temperature
 * channels) and turns it into metrics, time series, the link view of the management API, and
 * alarms: link down, QBER above threshold, board alarms, temperatures out of range.
 */
import { AUX_CHANNELS, type TemperatureReading } from '../../firmware-bridge/aux/diagnostics.js';
import { BLOCK_CHANNEL, BOARD_CHANNEL, SECURITY_CHANNEL, STATE_CHANNEL, type BlockReport, type BoardEvent, type LinkStateEvent, type SecurityEvent as LinkSecurityEvent } from '../qkd-link/module/diagnostics.js';
import type { AlarmManager } from './alarms.js';
import { listen } from './diagnostics.js';
import type { ManagerMetrics } from './metrics.js';
import type { TimeSeries } from './performance.js';

export interface QlmThresholds {
  /** QBER (Z basis, else X) above which a block raises `qber-high`; cleared below 80 % of it. */
  readonly qberAlarm: number;
}

export interface LinkView {
  readonly link: string;
  readonly role: string;
  readonly state: LinkStateEvent['state'] | 'unknown';
  readonly detail?: string;
  readonly since: number;
  readonly blocks: { readonly key: number; readonly noKey: number; readonly aborted: number };
  readonly qber?: number;
  readonly keyRateBitsPerS?: number;
  readonly secretBits: number;
}

export interface QlmOptions {
  readonly node: string;
  readonly alarms: AlarmManager;
  readonly metrics: ManagerMetrics;
  readonly series: TimeSeries;
  /** The links this node ends: events of other links (other nodes in the same process) are not ours. */
  readonly links: ReadonlySet<string>;
  readonly thresholds: QlmThresholds;
  /** Told of each QBER alarm raised: it is a security event too. */
  readonly onQberAlarm?: (link: string, qber: number) => void;
  readonly onLinkSecurity?: (e: LinkSecurityEvent) => void;
}

type Mutable = { -readonly [K in keyof LinkView]: LinkView[K] };

export class Qlm {
  readonly #o: QlmOptions;
  #thresholds: QlmThresholds;
  readonly #links = new Map<string, Mutable & { blocks: { key: number; noKey: number; aborted: number } }>();
  #off: (() => void) | null = null;

  constructor(o: QlmOptions) {
    this.#o = o;
    this.#thresholds = o.thresholds;
  }

  start(meter?: (ms: number) => void): void {
    this.#off = listen(
      {
        [BLOCK_CHANNEL]: (m) => this.#block(m as BlockReport),
        [STATE_CHANNEL]: (m) => this.#state(m as LinkStateEvent),
        [SECURITY_CHANNEL]: (m) => this.#security(m as LinkSecurityEvent),
        [BOARD_CHANNEL]: (m) => this.#board(m as BoardEvent),
        [AUX_CHANNELS.temperature]: (m) => this.#temperature(m as TemperatureReading),
      },
      meter,
    );
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
  }

  set thresholds(t: QlmThresholds) {
    this.#thresholds = t;
  }

  get thresholds(): QlmThresholds {
    return this.#thresholds;
  }

  links(): LinkView[] {
    return [...this.#links.values()].map((l) => ({ ...l, blocks: { ...l.blocks } }));
  }

  #view(link: string, role: string): Mutable & { blocks: { key: number; noKey: number; aborted: number } } {
    const k = `${link}|${role}`;
    let v = this.#links.get(k);
    if (!v) this.#links.set(k, (v = { link, role, state: 'unknown', since: Date.now(), blocks: { key: 0, noKey: 0, aborted: 0 }, secretBits: 0 }));
    return v;
  }

  #ours(link: string): boolean {
    return this.#o.links.has(link);
  }

  #state(e: LinkStateEvent): void {
    if (!this.#ours(e.linkId)) return;
    const v = this.#view(e.linkId, e.role);
    v.state = e.state;
    v.since = Date.now();
    if (e.detail) v.detail = e.detail;
    const source = `link:${e.linkId}`;
    const up = e.state === 'synchronised' || e.state === 'connected';
    this.#o.metrics.linkUp.set({ link: e.linkId, role: e.role }, e.state === 'synchronised' ? 1 : 0);
    if (e.state === 'disconnected' || e.state === 'error' || e.state === 'board-fault') {
      this.#o.alarms.raise({
        type: e.state === 'board-fault' ? 'board-alarm' : 'link-down',
        source,
        text: `link ${e.linkId} (${e.role}): ${e.state}${e.detail ? `: ${e.detail}` : ''}`,
        details: { state: e.state, role: e.role, ...(e.code ? { code: e.code } : {}) },
      });
    } else if (up) {
      this.#o.alarms.clear('link-down', source, e.state);
    }
  }

  #block(r: BlockReport): void {
    if (!this.#ours(r.linkId)) return;
    const v = this.#view(r.linkId, r.role);
    const labels = { link: r.linkId, role: r.role };
    this.#o.metrics.linkBlocks.inc({ ...labels, outcome: r.outcome });
    if (r.outcome === 'key') v.blocks.key++;
    else if (r.outcome === 'no-key') v.blocks.noKey++;
    else v.blocks.aborted++;
    const qZ = r.qber?.Z?.all;
    const qX = r.qber?.X.all;
    if (qZ !== undefined) this.#o.metrics.linkQber.set({ ...labels, basis: 'Z' }, qZ);
    if (qX !== undefined) this.#o.metrics.linkQber.set({ ...labels, basis: 'X' }, qX);
    const q = qZ ?? qX;
    if (q !== undefined) {
      v.qber = q;
      this.#o.series.record('qber', labels, q);
      const source = `link:${r.linkId}`;
      const limit = this.#thresholds.qberAlarm;
      if (q > limit) {
        const wasActive = this.#o.alarms.isActive('qber-high', source);
        this.#o.alarms.raise({ type: 'qber-high', source, text: `link ${r.linkId}: QBER ${(q * 100).toFixed(2)} % above ${(limit * 100).toFixed(2)} %`, details: { qber: q, threshold: limit, block: r.block } });
        if (!wasActive) this.#o.onQberAlarm?.(r.linkId, q);
      } else if (q < limit * 0.8) this.#o.alarms.clear('qber-high', source, `QBER ${(q * 100).toFixed(2)} %`);
    }
    if (r.finalBits !== undefined && r.finalBits > 0) {
      this.#o.metrics.linkKeyBits.inc(labels, r.finalBits);
      v.secretBits += r.finalBits;
    }
    const seconds = r.slots.clockHz > 0 ? (r.slots.end - r.slots.start) / r.slots.clockHz : 0;
    if (seconds > 0 && r.outcome !== 'aborted') {
      const rate = (r.finalBits ?? 0) / seconds;
      v.keyRateBitsPerS = rate;
      this.#o.metrics.linkKeyRate.set(labels, rate);
      this.#o.series.record('key_rate_bits_per_second', labels, rate);
    }
  }

  #security(e: LinkSecurityEvent): void {
    if (!this.#ours(e.linkId)) return;
    this.#o.alarms.raise({ type: 'link-security', source: `link:${e.linkId}`, text: `link ${e.linkId}: ${e.code}: ${e.message}`.slice(0, 300), details: { code: e.code } });
    this.#o.onLinkSecurity?.(e);
  }

  #board(e: BoardEvent): void {
    if (!this.#ours(e.linkId)) return;
    if (e.kind === 'telemetry') {
      for (const [sensor, c] of Object.entries(e.temps)) this.#o.metrics.boardTemperature.set({ link: e.linkId, board: e.board, sensor }, c);
      return;
    }
    const source = `board:${e.linkId}:${e.board}:${e.code}`;
    if (e.clear) {
      this.#o.alarms.clear('board-alarm', source, 'cleared by the board');
      return;
    }
    this.#o.metrics.boardAlarms.inc({ link: e.linkId, board: e.board, severity: e.severity });
    if (e.severity === 'info') return;
    this.#o.alarms.raise({ type: 'board-alarm', source, severity: e.severity === 'critical' ? 'major' : 'minor', text: `link ${e.linkId} ${e.board} board: ${e.code}: ${e.message}`.slice(0, 300), details: { code: e.code, board: e.board, boardSeverity: e.severity } });
  }

  #temperature(r: TemperatureReading): void {
    this.#o.metrics.auxTemperature.set({ sensor: r.sensor }, r.celsius);
    this.#o.series.record('temperature_celsius', { sensor: r.sensor }, r.celsius, r.at);
    const source = `aux:${r.sensor}`;
    if (r.outOfRange) this.#o.alarms.raise({ type: 'temperature', source, text: `${r.sensor} temperature ${r.celsius} °C is outside its limits`, details: { celsius: r.celsius } });
    else this.#o.alarms.clear('temperature', source, `${r.celsius} °C`);
  }
}
