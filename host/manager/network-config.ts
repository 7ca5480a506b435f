/**
 * Configuration management of the whole network at the network manager: versions of the managed
 * document (configuration.ts: history, diff, rollback) in the manager's own manager.lmdb, each
 * pushed to every node's management API (`PUT /api/v1/config`), where the node checks it and
 * applies it through its controller's configuration control or its KM's view.
 *
 * A version is in force everywhere or nowhere: node by node, each node's configuration is read,
 * then the version put; when one node refuses it or cannot be reached, the nodes that took it get
 * their previous configuration back; the version is not stored and the put answers 409 ERR_MGMT_CONFIG_REFUSED
 * naming the node (ConfigurationManager records the refusal).
 */
import { ConfigurationManager, type ConfigTarget, type ManagedConfig } from './configuration.js';
import { ManagementError } from './errors.js';
import type { NetworkManager } from './network.js';
import { NodeRefusedError } from './node-client.js';

export type NetworkConfiguration = ConfigurationManager;

/** Pushes a version to every node of `m`, restoring the nodes that took it when one refuses. */
export function pushTarget(m: NetworkManager): ConfigTarget {
  return {
    check() {
      // Each node checks it against its own network when it is pushed.
    },
    async apply(c: ManagedConfig, version: number) {
      const nodes = m.nodes().map((s) => s.node);
      const before = new Map<string, { version: number; config: unknown }>();
      const changed: string[] = [];
      const wanted = JSON.stringify(c);
      try {
        // Node by node: a node that is down, or goes down while the version is pushed, is the same case.
        for (const n of nodes) {
          const b = await m.client(n).get('config', '/api/v1/config');
          before.set(n, b);
          if (JSON.stringify(b.config) === wanted) continue;
          await m.client(n).send('config', 'PUT', '/api/v1/config', { config: c, comment: `network version ${version} from ${m.id}`, baseVersion: b.version });
          changed.push(n);
        }
      } catch (e) {
        const node = (e as { node?: string }).node ?? 'a node';
        const restored: string[] = [];
        for (const n of changed.reverse()) {
          try {
            await m.client(n).send('config', 'PUT', '/api/v1/config', { config: before.get(n)!.config, comment: `rollback: network version ${version} was refused by ${node}` });
            restored.push(n);
          } catch (r) {
            m.log.error({ node: n, version, error: (r as Error).message }, 'a node could not be rolled back');
          }
        }
        const reason = e instanceof NodeRefusedError ? e.message : `${node} could not be reached: ${(e as Error).message}`;
        throw new ManagementError('ERR_MGMT_CONFIG_REFUSED', `network version ${version} was not applied: ${reason}`.slice(0, 400), [{ node, rolledBack: restored.join(',') || 'none', ...(e instanceof NodeRefusedError ? { status: e.status } : {}) }]);
      }
    },
  };
}

export function openNetworkConfiguration(m: NetworkManager): Promise<NetworkConfiguration> {
  return ConfigurationManager.open(m.store, pushTarget(m));
}
