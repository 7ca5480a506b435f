/**
 * Which key source implements a link's `source.type`. `simulated` is built in; the QKD link module
 * (host/qkd-link/) registers `qkd` with `registerKeySourceFactory` so that the node can run real
 * links without this module importing the quantum layer.
 */
import type { KeySource } from '../km/key-source.js';
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

export async function createKeySource(ctx: KeySourceContext): Promise<KeySource> {
  const f = factories.get(ctx.link.source.type);
  if (!f) throw new KmConfigError(`links.${ctx.link.id}.source.type`, `no key source of type ${ctx.link.source.type} in this build (the QKD link module registers "qkd")`);
  return f(ctx.link.source, ctx);
}
