/**
 * The key manager's view of the network: the current Topology and its version. The key manager
 * reads topology only through it, so a controller can push a new one while the node runs; a
 * version lower than the current one is refused (an old push arriving late must not undo a newer).
 */
import { EventEmitter } from 'node:events';
import { KmError } from './errors.js';
import type { Topology } from './topology.js';

export class StaleTopologyError extends KmError {
  readonly current: number;
  readonly offered: number;
  constructor(current: number, offered: number) {
    super('ERR_KM_CONFIG', `topology version ${offered} is older than the current ${current}`);
    this.current = current;
    this.offered = offered;
  }
}

export interface TopologyChange {
  readonly topology: Topology;
  readonly version: number;
  readonly previous: Topology;
}

export class NetworkView {
  #topology: Topology;
  #version: number;
  readonly #events = new EventEmitter();

  constructor(topology: Topology, version = 0) {
    this.#topology = topology;
    this.#version = version;
  }

  current(): Topology {
    return this.#topology;
  }

  get version(): number {
    return this.#version;
  }

  /** Installs `topology` as `version`; the same version again is a no-op, an older one is refused. */
  replace(topology: Topology, version: number): void {
    if (!Number.isSafeInteger(version) || version < this.#version) throw new StaleTopologyError(this.#version, version);
    if (version === this.#version && topology === this.#topology) return;
    const previous = this.#topology;
    this.#topology = topology;
    this.#version = version;
    this.#events.emit('change', { topology, version, previous } satisfies TopologyChange);
  }

  /** Calls `listener` after every change; returns the function that removes it. */
  onChange(listener: (c: TopologyChange) => void): () => void {
    this.#events.on('change', listener);
    return () => this.#events.off('change', listener);
  }
}
