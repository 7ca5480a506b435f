/**
 * Configuration control: the network's nodes, links and SAEs, changed at run time in versions.
 * Every change makes a new version, is stored (so a new leader or a restarted controller goes on
 * from it) and is pushed to every subscriber: the controller's own view, and the key managers'
 * NetworkViews (directly in one process, over Ck TopologyPush otherwise), which take it without a
 * restart and refuse an older version than the one they hold.
 */
import { ControllerConfigError } from './errors.js';
import type { ControlStore } from './store.js';
import type { LinkConfig, NetworkConfig } from './view.js';
import type { Topology } from '../km/topology.js';

export type ConfigListener = (config: NetworkConfig, version: number) => void;

export interface ConfigChange {
  readonly addNodes?: readonly string[];
  readonly removeNodes?: readonly string[];
  readonly addLinks?: readonly LinkConfig[];
  readonly removeLinks?: readonly string[];
  readonly addSaes?: Readonly<Record<string, string>>;
  readonly removeSaes?: readonly string[];
}

const CURRENT = 'config/current';

export class ConfigurationControl {
  #config: NetworkConfig;
  #version: number;
  readonly #store: ControlStore;
  readonly #listeners = new Set<ConfigListener>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: ControlStore, initial: NetworkConfig, version = 1) {
    this.#store = store;
    this.#config = initial;
    this.#version = version;
  }

  /** Loads the stored configuration when there is one newer than the initial one. */
  async load(): Promise<void> {
    const raw = await this.#store.get(CURRENT);
    if (!raw) return void (await this.#persist());
    const { version, config } = JSON.parse(raw) as { version: number; config: NetworkConfig };
    if (version > this.#version) {
      this.#config = config;
      this.#version = version;
      this.#notify();
    }
  }

  get version(): number {
    return this.#version;
  }

  get config(): NetworkConfig {
    return this.#config;
  }

  /** Calls `fn` now with the current version and after every change; returns the unsubscriber. */
  subscribe(fn: ConfigListener): () => void {
    this.#listeners.add(fn);
    fn(this.#config, this.#version);
    return () => this.#listeners.delete(fn);
  }

  /** Applies a change as the next version: stored first, then pushed. Changes apply one at a time. */
  change(c: ConfigChange): Promise<number> {
    const run = this.#queue.then(async () => {
      const next = applyChange(this.#config, c);
      const version = this.#version + 1;
      await this.#store.put(`config/versions/${String(version).padStart(12, '0')}`, JSON.stringify(next));
      await this.#store.put(CURRENT, JSON.stringify({ version, config: next }));
      this.#config = next;
      this.#version = version;
      this.#notify();
      return version;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Adopts a version another replica stored (a follower watching etcd). */
  adopt(config: NetworkConfig, version: number): void {
    if (version <= this.#version) return;
    this.#config = config;
    this.#version = version;
    this.#notify();
  }

  async #persist(): Promise<void> {
    await this.#store.put(CURRENT, JSON.stringify({ version: this.#version, config: this.#config }));
  }

  #notify(): void {
    for (const fn of this.#listeners) fn(this.#config, this.#version);
  }
}

export function applyChange(c: NetworkConfig, ch: ConfigChange): NetworkConfig {
  const removeNodes = new Set(ch.removeNodes ?? []);
  const removeLinks = new Set(ch.removeLinks ?? []);
  const removeSaes = new Set(ch.removeSaes ?? []);
  const nodes = [...c.nodes.filter((n) => !removeNodes.has(n)), ...(ch.addNodes ?? []).filter((n) => !c.nodes.includes(n))];
  const links = [...c.links.filter((l) => !removeLinks.has(l.id) && !l.ends.some((n) => removeNodes.has(n))), ...(ch.addLinks ?? [])];
  const saes: Record<string, string> = {};
  for (const [s, n] of Object.entries(c.saes)) if (!removeSaes.has(s) && !removeNodes.has(n)) saes[s] = n;
  for (const [s, n] of Object.entries(ch.addSaes ?? {})) saes[s] = n;
  const ids = new Set<string>();
  for (const l of links) {
    if (ids.has(l.id)) throw new ControllerConfigError(`links.${l.id}`, 'already exists');
    ids.add(l.id);
    for (const n of l.ends) if (!nodes.includes(n)) throw new ControllerConfigError(`links.${l.id}`, `unknown node ${n}`);
  }
  for (const [s, n] of Object.entries(saes)) if (!nodes.includes(n)) throw new ControllerConfigError(`saes.${s}`, `unknown node ${n}`);
  return { nodes, links, saes };
}

/** The key manager's Topology for a configuration. */
export function topologyOf(c: NetworkConfig): Topology {
  return { nodes: [...c.nodes], links: c.links.map((l) => ({ id: l.id, ends: [l.ends[0], l.ends[1]] })), saes: new Map(Object.entries(c.saes)) };
}
