/**
 * `npm start`: the demo of what qkdn-edge does today. For now, a post-processing run over
 * simulated BB84 detections that prints what each stage did.
 */
import { SingleBar, Presets } from 'cli-progress';
import { Sifter } from '../qkd-link/kernels/sift.js';

export interface DemoOptions {
  readonly blocks: number;
  readonly seed: number;
}

/** xorshift32: a small deterministic source for the simulated detections. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const slots = 1 << 20;
  const next = rng(opts.seed);
  const sifter = new Sifter();
  process.stdout.write(`qkdn-edge demo: ${opts.blocks} block(s) of ${slots} detected slots, kernels ${sifter.target}\n`);
  const bar = new SingleBar({ format: 'sifting  [{bar}] {value}/{total} blocks', hideCursor: true }, Presets.shades_classic);
  bar.start(opts.blocks, 0);
  let total = 0;
  for (let b = 0; b < opts.blocks; b++) {
    const bytes = slots / 8;
    const fill = (u: Uint8Array) => {
      for (let i = 0; i < u.length; i += 4) {
        const r = next();
        u[i] = r;
        u[i + 1] = r >>> 8;
        u[i + 2] = r >>> 16;
        u[i + 3] = r >>> 24;
      }
      return u;
    };
    const r = sifter.siftPacked(fill(new Uint8Array(bytes)), fill(new Uint8Array(bytes)), fill(new Uint8Array(bytes)), slots);
    total += r.length;
    bar.increment();
    await new Promise((resolve) => setImmediate(resolve));
  }
  bar.stop();
  process.stdout.write(`sifting: kept ${total} of ${opts.blocks * slots} slots (${((100 * total) / (opts.blocks * slots)).toFixed(2)} %, expected 50 % for unbiased bases)\n`);
  return 0;
}
