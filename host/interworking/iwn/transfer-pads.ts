/**
 * One-time pads of the key transfer function inside an interworking node (Y.3818 clauses 6.2,
 * 7.2: there is no QKD link between module-A and module-B, so Kxi-1' has no Qx units to pad
 * with). The IWN draws a
 * fresh pad for every transfer from its CSPRNG and keeps it in its own memory only: KM-A sends
 * K ⊕ pad over the Kxi-1' connection, KM-B takes the pad by ID, once, and XORs again. What crosses
 * the socket between the two KMs (loopback inside the IWN, but visible to anyone who can record
 * it) is the padded form only, under the connection's mutual TLS besides; a tamper wipes the pads
 * with the two stores.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export class TransferPads {
  readonly #pads = new Map<string, Buffer>();

  /** `count` fresh pads of `bytes` bytes each; their IDs. */
  draw(count: number, bytes: number): string[] {
    return Array.from({ length: count }, () => {
      const id = randomUUID();
      this.#pads.set(id, randomBytes(bytes));
      return id;
    });
  }

  holds(id: string): boolean {
    return this.#pads.has(id);
  }

  /** The pad's bytes, removed from the pool: a pad pads one transfer. */
  take(id: string): Buffer | undefined {
    const p = this.#pads.get(id);
    this.#pads.delete(id);
    return p;
  }

  /** The sending KM's side: XORs `data` in place with the pads named, leaving them for the receiving KM. */
  mask(ids: readonly string[], data: Uint8Array): void {
    let off = 0;
    for (const id of ids) {
      const p = this.#pads.get(id)!;
      for (let i = 0; i < p.length; i++) data[off + i]! ^= p[i]!;
      off += p.length;
    }
  }

  /**
   * The receiving KM's side: XORs `data` in place with the pads named, taking them. False if one is
   * missing (nothing taken, nothing changed) or the lengths differ (the pads are used up all the
   * same, as a Kx hop's are: a pad is never offered twice).
   */
  apply(ids: readonly string[], data: Uint8Array): boolean {
    if (!ids.every((id) => this.#pads.has(id))) return false;
    const pad = Buffer.concat(ids.map((id) => this.take(id)!));
    if (pad.length !== data.length) {
      pad.fill(0);
      return false;
    }
    for (let i = 0; i < data.length; i++) data[i]! ^= pad[i]!;
    pad.fill(0);
    return true;
  }

  get size(): number {
    return this.#pads.size;
  }

  /** Tamper response: every pad overwritten and dropped. */
  wipe(): void {
    for (const p of this.#pads.values()) p.fill(0);
    this.#pads.clear();
  }
}
