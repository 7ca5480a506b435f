/**
 * Configuration management applied through the controller's configuration control: a version's
 * network structure (nodes, links, SAEs) becomes one change of the controller's configuration
 * (host/controller/configuration.ts), which stores it as its own next version and pushes it to
 * the key managers; the controller is the judge of it, and a version it refuses is not stored
 * here (ConfigurationManager rolls back to the version in force). The rest of the document (routes,
 * thresholds) goes to the node's own target after the controller took the structure.
 *
 * The manager imports no other layer: the node's wiring passes the controller's
 * ConfigurationControl, which has the shape of ConfigurationControlPort.
 */
import type { ConfigTarget, ControlledNetwork, ManagedConfig } from './configuration.js';
import { ManagementError } from './errors.js';

/** One change of the controller's configuration (ConfigChange in host/controller/configuration.ts). */
export interface ControlChange {
  readonly addNodes?: readonly string[];
  readonly removeNodes?: readonly string[];
  readonly addLinks?: readonly { readonly id: string; readonly ends: readonly [string, string] }[];
  readonly removeLinks?: readonly string[];
  readonly addSaes?: Readonly<Record<string, string>>;
  readonly removeSaes?: readonly string[];
}

/** What configuration management needs of the controller's configuration control. */
export interface ConfigurationControlPort {
  readonly version: number;
  readonly config: ControlledNetwork;
  /** Applies the change as the controller's next version; rejects when the controller refuses it. */
  change(c: ControlChange): Promise<number>;
}

/** The change that turns `from` into `to`, or null when they are the same network. */
export function changeBetween(from: ControlledNetwork, to: ControlledNetwork): ControlChange | null {
  const toNodes = new Set(to.nodes);
  const fromNodes = new Set(from.nodes);
  const removeNodes = from.nodes.filter((n) => !toNodes.has(n));
  const addNodes = to.nodes.filter((n) => !fromNodes.has(n));
  const linkKey = (l: { id: string; ends: readonly [string, string] }) => `${l.id}|${l.ends[0]}|${l.ends[1]}`;
  const toLinks = new Set(to.links.map(linkKey));
  const fromLinks = new Set(from.links.map(linkKey));
  // A link whose ends changed is removed and added again under its ID.
  const removeLinks = from.links.filter((l) => !toLinks.has(linkKey(l))).map((l) => l.id);
  const addLinks = to.links.filter((l) => !fromLinks.has(linkKey(l)));
  const removeSaes = Object.keys(from.saes).filter((s) => !(s in to.saes));
  const addSaes = Object.fromEntries(Object.entries(to.saes).filter(([s, n]) => from.saes[s] !== n));
  if (removeNodes.length + addNodes.length + removeLinks.length + addLinks.length + removeSaes.length + Object.keys(addSaes).length === 0) return null;
  return {
    ...(addNodes.length ? { addNodes } : {}),
    ...(removeNodes.length ? { removeNodes } : {}),
    ...(addLinks.length ? { addLinks } : {}),
    ...(removeLinks.length ? { removeLinks } : {}),
    ...(Object.keys(addSaes).length ? { addSaes } : {}),
    ...(removeSaes.length ? { removeSaes } : {}),
  };
}

function structureOf(c: ManagedConfig): ControlledNetwork | null {
  const n = c.network;
  return n.nodes && n.links && n.saes ? { nodes: n.nodes, links: n.links, saes: n.saes } : null;
}

/**
 * A target that applies a version's structure through `control`, then the rest through `rest`.
 * Routes are checked against the version's own links when it has a structure (they may use a link
 * it adds); without one, `rest` checks everything as before.
 */
export function controlTarget(control: ConfigurationControlPort, rest?: ConfigTarget): ConfigTarget {
  return {
    check(c) {
      const s = structureOf(c);
      if (!s) return rest?.check(c);
      const pairs = new Set(s.links.map((l) => [...l.ends].sort().join('~')));
      c.network.routes.forEach((r, i) => {
        for (let j = 1; j < r.length; j++)
          if (!pairs.has([r[j - 1]!, r[j]!].sort().join('~'))) throw new ManagementError('ERR_MGMT_CONFIG_INVALID', `network.routes[${i}]: no link between ${r[j - 1]} and ${r[j]}`, [{ parameter: `/network/routes/${i}`, reason: `no link between ${r[j - 1]} and ${r[j]}` }]);
      });
    },
    async apply(c, version) {
      const s = structureOf(c);
      const change = s ? changeBetween(control.config, s) : null;
      if (change) await control.change(change);
      await rest?.apply(c, version);
    },
  };
}
