/**
 * Sealing of key records at rest: AES-256-GCM under the store's data key, a random 96-bit nonce
 * per record, the record's identity (ID, pool, size) as associated data. The ciphertext of a
 * record is the encrypted bytes followed by the 16-byte tag.
 *
 * A QKD link at 10 km adds about 17,000 units a second; creating a cipher per record costs the
 * main thread about a third of its time there. So large batches are sealed on a thread of the
 * store's own (`RecordSealer`), which runs the same function (`sealRecords`) from its source: a
 * worker started from a string needs no file beside the module, so it works from a one-file
 * bundle too.
 */
import * as crypto from 'node:crypto';
import { Worker } from 'node:worker_threads';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * Seals `ads.length` records of `size` bytes each, laid end to end in `plain`, with the nonces
 * laid end to end in `nonces`; returns their ciphertexts (size + TAG_BYTES each) end to end.
 * Runs on the sealing thread from its source text: it may use only its arguments.
 */
export function sealRecords(c: Pick<typeof crypto, 'createCipheriv'>, dek: Uint8Array, ads: readonly string[], plain: Uint8Array, size: number, nonces: Uint8Array): Uint8Array {
  const out = new Uint8Array(ads.length * (size + 16));
  for (let i = 0; i < ads.length; i++) {
    const g = c.createCipheriv('aes-256-gcm', dek, nonces.subarray(12 * i, 12 * i + 12));
    g.setAAD(Buffer.from(ads[i]!));
    let o = i * (size + 16);
    const body = g.update(plain.subarray(i * size, (i + 1) * size));
    out.set(body, o);
    o += body.length;
    const last = g.final();
    out.set(last, o);
    out.set(g.getAuthTag(), o + last.length);
  }
  return out;
}

/** Opens one record sealed by sealRecords (throws when the tag does not match). */
export function openRecord(dek: Uint8Array, ad: string, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  const d = crypto.createDecipheriv('aes-256-gcm', dek, nonce);
  d.setAAD(Buffer.from(ad));
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]));
}

/** Batches from this many records on go to the sealing thread; smaller ones are not worth the hop. */
export const OFFLOAD_MIN_RECORDS = 64;

interface SealRequest {
  readonly ads: readonly string[];
  readonly plain: Uint8Array;
  readonly size: number;
  readonly nonces: Uint8Array;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const dek = workerData.dek;
const sealRecords = ${sealRecords.toString()};
parentPort.on('message', (m) => {
  if (m === 'erase') { dek.fill(0); parentPort.close(); return; }
  try {
    const ct = sealRecords(crypto, dek, m.ads, m.plain, m.size, m.nonces);
    parentPort.postMessage({ ct }, [ct.buffer]);
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  } finally {
    m.plain.fill(0);
  }
});
`;

/**
 * The store's sealing thread. Requests are answered in order, so callers that await in turn keep
 * their order. The thread holds a copy of the data key, erased when the sealer closes; the units
 * it is given move to it (they are not copied) and are erased once sealed.
 */
export class RecordSealer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #waiting: { resolve: (ct: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  #failed: Error | undefined;
  #closed = false;

  constructor(dek: Uint8Array) {
    // The key moves to the thread: this copy's buffer is detached here once sent.
    const copy = Uint8Array.from(dek);
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dek: copy }, transferList: [copy.buffer] });
    this.#exited = new Promise<void>((r) => this.#worker.once('exit', () => r()));
    this.#worker.on('message', (m: { ct?: Uint8Array; error?: string }) => {
      const w = this.#waiting.shift();
      // Idle, the thread does not keep the process alive; with a seal outstanding, it does.
      if (this.#waiting.length === 0) this.#worker.unref();
      if (!w) return;
      if (m.ct) w.resolve(m.ct);
      else w.reject(new Error(`sealing thread: ${m.error ?? 'no answer'}`));
    });
    this.#worker.on('error', (e) => this.#fail(e));
    this.#worker.on('exit', () => this.#fail(new Error('sealing thread exited')));
    this.#worker.unref();
  }

  /** sealRecords on the sealing thread; `plain` moves there (its buffer is detached here). */
  seal(ads: readonly string[], plain: Uint8Array, size: number, nonces: Uint8Array): Promise<Uint8Array> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) this.#worker.ref();
      this.#waiting.push({ resolve, reject });
      const req: SealRequest = { ads, plain, size, nonces };
      this.#worker.postMessage(req, [plain.buffer as ArrayBuffer]);
    });
  }

  /** Whether the thread can take requests (it has not failed or been closed). */
  get usable(): boolean {
    return !this.#failed && !this.#closed;
  }

  /** Erases the thread's copy of the key and ends it (at once if it has already ended). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.postMessage('erase');
    // A thread that does not end by itself is stopped.
    const timer = setTimeout(() => void this.#worker.terminate(), 1000);
    await this.#exited;
    clearTimeout(timer);
  }

  #fail(e: Error): void {
    this.#failed ??= this.#closed ? new Error('the record sealer is closed') : e;
    for (const w of this.#waiting.splice(0)) w.reject(this.#failed);
  }
}
