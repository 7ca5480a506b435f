/**
 * The border filter (the enforcing half of the policy-based control function, Y.3818 clause 7.1):
 * every message a provider sends across its border passes here first, in the
 * wire form it will be encoded from (messages.ts wireBody), and is refused with a
 * BorderLeakError, counted and published (diagnostics.ts), if it would carry
 *   - the ID of an internal node or link of this provider (anything but the border nodes and Qx
 *     links facing this peer, and the KMs serving SAEs shared with it: border/policy.ts),
 *   - an SAE of this provider that is not shared with this peer,
 *   - key material: a byte string anywhere but the fields its message declares (relayed
 *     ciphertext, nonces, digests, sealed Mxi payloads), or a hex or base64 run in free text.
 * Free text is split into words so that "link a3-a4 failed" is caught as well as a bare ID. Mxi
 * messages are filtered before they are sealed (mxi/seal.ts), since the sealed form cannot be read.
 */
import { BorderLeakError, type LeakKind } from '../errors.js';
import { publishBorderRefused } from '../diagnostics.js';
import { specOf, wireBody, type IwBody, type IwMessageName } from '../messages.js';
import { vocabulary, type ProviderTopology, type SharingPolicy, type Vocabulary } from './policy.js';

// 128 bits and more in hex, or 192 bits and more in base64: longer than any ID or word we write.
const KEY_LIKE = /[0-9a-fA-F]{32,}|[A-Za-z0-9+/]{32,}={0,2}/;
const WORD = /[A-Za-z0-9._~-]+/g;

export class BorderFilter {
  readonly provider: string;
  readonly peer: string;
  readonly #vocab: Vocabulary;
  readonly #refused = new Map<LeakKind, number>();
  #passed = 0;

  constructor(topology: ProviderTopology, policy: SharingPolicy, peer: string) {
    this.provider = topology.provider;
    this.peer = peer;
    this.#vocab = vocabulary(topology, policy, peer);
  }

  /** Messages passed and refused so far, by kind of leak. */
  counts(): { passed: number; refused: Record<LeakKind, number> } {
    const r = (k: LeakKind) => this.#refused.get(k) ?? 0;
    return { passed: this.#passed, refused: { 'internal-node': r('internal-node'), 'internal-link': r('internal-link'), 'key-material': r('key-material'), 'unshared-sae': r('unshared-sae') } };
  }

  /** The wire body of the message if it may cross; throws BorderLeakError (counted) if not. */
  check<N extends IwMessageName>(name: N, body: IwBody<N>): Record<string, unknown> {
    const wire = wireBody(name, body);
    const spec = specOf(name);
    const leak = this.#scan(wire, '', spec.bytes, spec.freeText);
    if (leak) {
      this.#refused.set(leak.kind, (this.#refused.get(leak.kind) ?? 0) + 1);
      publishBorderRefused({ provider: this.provider, peer: this.peer, message: name, kind: leak.kind, path: leak.path });
      throw new BorderLeakError(leak.kind, name, leak.path);
    }
    this.#passed++;
    return wire;
  }

  #name(s: string): LeakKind | null {
    const i = this.#vocab.internal;
    if (i.links.has(s)) return 'internal-link';
    if (i.nodes.has(s)) return 'internal-node';
    if (i.saes.has(s)) return 'unshared-sae';
    return null;
  }

  #scan(v: unknown, path: string, bytes: readonly string[], freeText: readonly string[]): { kind: LeakKind; path: string } | null {
    const shape = path.replace(/\[\d+\]/g, '[]');
    if (v instanceof Uint8Array) return bytes.includes(shape) ? null : { kind: 'key-material', path };
    if (typeof v === 'string') {
      if (freeText.includes(shape)) {
        if (KEY_LIKE.test(v)) return { kind: 'key-material', path };
        for (const w of v.match(WORD) ?? []) {
          // "at a3." ends a sentence: try the word without trailing punctuation too
          const k = this.#name(w) ?? this.#name(w.replace(/[._~-]+$/, ''));
          if (k) return { kind: k, path };
        }
        return null;
      }
      const k = this.#name(v);
      return k ? { kind: k, path } : null;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = this.#scan(v[i], `${path}[${i}]`, bytes, freeText);
        if (r) return r;
      }
      return null;
    }
    if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        const r = this.#scan(x, path ? `${path}.${k}` : k, bytes, freeText);
        if (r) return r;
      }
    }
    return null;
  }
}
