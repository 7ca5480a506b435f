/**
 * Which key source implements a link's `source.type`: `simulated` and `qkd` (qkd-source.ts, loaded
 * on first use, so that nodes with simulated links only never load the quantum layer). Others can
 * be added with `registerKeySourceFactory`. The link layer never imports the node: the node
 * registers the link's source here.
 */
import type { KeySource } from '../kq/key-source.js';
import { SimulatedKeySource } from '../km/simulated-key-source.js';
import { KmConfigError } from '../km/errors.js';
import type { KeySourceConfig, LinkConfig, NodeConfig } from './config.js';

export interface KeySourceContext {
  readonly link: LinkConfig;
  /** This node's ID and the peer's. */
  readonly node: string;
  readonly peer: string;
  readonly unitBits: number;
  readonly config: NodeConfig;
}

export type KeySourceFactory = (source: KeySourceConfig, ctx: KeySourceContext) => KeySource | Promise<KeySource>;

const factories = new Map<string, KeySourceFactory>();

export function registerKeySourceFactory(type: string, factory: KeySourceFactory): void {
  factories.set(type, factory);
}

registerKeySourceFactory('simulated', (s, ctx) => {
  if (s.type !== 'simulated') throw new KmConfigError(`links.${ctx.link.id}.source`, 'not a simulated source');
  return new SimulatedKeySource({ linkId: ctx.link.id, peer: ctx.peer, seed: Buffer.from(s.seed, 'hex'), rate: s.rate, unitBits: ctx.unitBits, initialUnits: s.initialUnits ?? 0 });
});

registerKeySourceFactory('qkd', async (s, ctx) => (await import('./qkd-source.js')).openQkdKeySource(s, ctx));

export async function createKeySource(ctx: KeySourceContext): Promise<KeySource> {
  const f = factories.get(ctx.link.source.type);
  if (!f) throw new KmConfigError(`links.${ctx.link.id}.source.type`, `no key source of type ${ctx.link.source.type}`);
  return f(ctx.link.source, ctx);
}
