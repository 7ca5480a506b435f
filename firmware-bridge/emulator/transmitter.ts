/**
 * The emulated transmitter: its source emits from START to STOP (each emission interval with the
 * source settings and fibre it began with, told to the bench through `onEmission` so that the
 * receiver sees it), and QUERY_SETTINGS answers, for slots the host asks about, the setting the
 * source used there, from the same model the receiver draws its detections from (channel-model.ts,
 * the WASM kernel of detection-kernel.ts). It streams nothing.
 */
import type { Frame } from '../protocol/frame.js';
import * as msg from '../protocol/messages.js';
import { EmulatedBoard, M, type BatchStats, type BoardOptions, type RoleTelemetry } from './board.js';
import { ChannelModel, type EmissionInterval, type SourceSettings } from './channel-model.js';
import { SettingsKernel } from './detection-kernel.js';

const NO_BATCHES: BatchStats = { batchesProduced: 0, batchesSent: 0, eventsProduced: 0, eventsOverflowed: 0, resentBatches: 0, lostAnswered: 0 };

export class TransmitterBoard extends EmulatedBoard {
  /** Called when the transmitter starts or stops emitting: the bench relays it to the receiver (the fibre). */
  onEmission: ((emissions: readonly EmissionInterval[]) => void) | undefined;
  private source: SourceSettings;
  private emissions: EmissionInterval[] = [];
  /** The model of each emission: its source over the fibre as it was when the emission began. */
  private emissionModels: ChannelModel[] = [];
  private readonly settings = new SettingsKernel();

  constructor(opts: BoardOptions) {
    super(opts, 'tx');
    this.source = opts.channel.source;
  }

  protected configureRole(re: number, c: msg.Configure): void {
    const r = this.model.ranges;
    this.inRange(c.clockHz, r.clockHz, 'clockHz');
    const mu = c.mu ?? this.source.mu;
    const pMu = c.pMu ?? this.source.pMu;
    mu.forEach((m, k) => this.inRange(m, r.mu, `mu[${k}]`));
    if (mu.length > this.model.caps.intensities) throw new RangeError(`${mu.length} intensity classes, the source has ${this.model.caps.intensities}`);
    const next: SourceSettings = { clockHz: c.clockHz ?? this.clockHz, mu: [...mu], pMu: [...pMu], pZ: c.pZ ?? this.source.pZ };
    new ChannelModel({ ...this.channel, source: next }); // validates (throws RangeError)
    const wasEmitting = this.acquiring;
    if (wasEmitting) this.endEmission();
    this.source = next;
    this.clockHz = next.clockHz;
    if (wasEmitting) this.beginEmission(this.nowSlot());
    this.configured = true;
    this.ack(re, { clockHz: next.clockHz, mu: [...next.mu], pMu: [...next.pMu], pZ: next.pZ });
  }

  protected startRole(re: number): void {
    this.beginEmission(this.startSlot);
    this.ack(re, { acq: this.acq, firstSlot: this.startSlot, firstBatch: 0 });
  }

  protected stopRole(re: number, now: number): void {
    this.endEmission();
    this.acquiring = false;
    this.stopSlot = now;
    this.ack(re, { acq: this.acq, lastSlot: now, batches: 0 });
  }

  protected handleRole(f: Frame): void {
    // CREDIT and RESEND concern a receiver's stream: a transmitter has none and ignores them.
    if (f.type === M.QUERY_SETTINGS) this.querySettings(f.seq, msg.decodeQuerySettings(f.payload));
  }

  protected telemetry(): RoleTelemetry {
    return { rates: [], temps: { board: 33 }, biasV: 0, overflow: 0 };
  }

  protected batchStats(): BatchStats {
    return NO_BATCHES;
  }

  private beginEmission(from: number): void {
    this.emissions.push({ from, to: Infinity, source: this.source });
    this.emissionModels.push(new ChannelModel({ ...this.channel, source: this.source }));
    this.onEmission?.(this.emissions);
  }

  private endEmission(): void {
    const last = this.emissions[this.emissions.length - 1];
    if (last && last.to === Infinity) this.emissions[this.emissions.length - 1] = { ...last, to: this.nowSlot() };
    this.onEmission?.(this.emissions);
  }

  private querySettings(re: number, q: msg.QuerySettings): void {
    const now = this.nowSlot();
    const oldest = now - this.model.caps.ringSlots;
    const slots = q.slots;
    const n = slots.length;
    const out = new Uint8Array(n);
    // Queried slots are increasing (deltas are unsigned) and emission intervals are ordered and
    // disjoint: one cursor walks both.
    const em = this.emissions;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      if (s > now) {
        out.fill(msg.SETTING_FUTURE, i);
        break;
      }
      if (s < oldest) {
        out[i] = msg.SETTING_EXPIRED;
        continue;
      }
      while (k < em.length && em[k]!.to <= s) k++;
      const e = em[k];
      if (!e || s < e.from) {
        out[i] = msg.SETTING_DARK;
        continue;
      }
      // The run of slots inside this emission (and not in the future), answered by the kernel at once.
      let j = i + 1;
      const to = Math.min(e.to, now + 1);
      while (j < n && slots[j]! < to) j++;
      this.settings.answer(this.emissionModels[k]!, slots, i, j, out, i);
      i = j - 1;
    }
    this.send(M.SETTINGS, msg.encodeSettings({ re, settings: out }));
  }
}
