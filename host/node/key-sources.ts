/**
 * Which key source implements a link's `source.type`. `simulated` is built in; the QKD link module
 * registers `qkd` with `registerKeySourceFactory` from host/qkd-link/module/node-source.ts, loaded
 * on first use, so that the node can run real links without this module importing the quantum layer.
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

/**
 * The QKD link module's registration, loaded the first time a configuration names a `qkd` link
 * (so nodes with simulated links only never load the quantum layer). That module calls
 * `registerKeySourceFactory('qkd', ...)` when imported.
 */
const QKD_REGISTRATION = new URL('../qkd-link/module/node-source.js', import.meta.url).href;

export async function createKeySource(ctx: KeySourceContext): Promise<KeySource> {
  if (ctx.link.source.type === 'qkd' && !factories.has('qkd')) {
    await import(QKD_REGISTRATION).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    });
  }
  const f = factories.get(ctx.link.source.type);
  if (!f) throw new KmConfigError(`links.${ctx.link.id}.source.type`, `no key source of type ${ctx.link.source.type} in this build (the QKD link module registers "qkd")`);
  return f(ctx.link.source, ctx);
}
