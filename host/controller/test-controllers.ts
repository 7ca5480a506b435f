/**
 * A controller in every node of an in-process test network (host/km/test-network.ts), for tests:
 * the distributed form over real mutual-TLS connections on loopback, signed with the nodes' keys,
 * each reading its own KM's stock and Kx reachability.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkiPaths, type TestNetwork, type TestNode } from '../km/test-network.js';
import { freePort } from '../bench/ports.js';
import { DistributedController, type DistributedOptions } from './distributed.js';
import { OriginKeys, signer } from './flooding/origin-keys.js';
import type { NetworkConfig } from './view.js';
import type { Endpoint } from './channel.js';

export async function startDistributedControllers(net: TestNetwork, config: NetworkConfig, more: (node: TestNode) => Partial<DistributedOptions> = () => ({})): Promise<Map<string, DistributedController>> {
  const paths = pkiPaths(join(net.dir, 'pki'));
  const ca = readFileSync(paths.ca, 'utf8');
  const origins = OriginKeys.fromFiles(paths.ca, new Map(config.nodes.map((n) => [n, paths.cert('KME', n)])));
  const endpoints = new Map<string, Endpoint>();
  for (const n of config.nodes) endpoints.set(n, { host: '127.0.0.1', port: await freePort() });
  const controllers = new Map<string, DistributedController>();
  for (const id of config.nodes) {
    const node = net.node(id);
    const peers = config.links.filter((l) => l.ends.includes(id)).map((l) => (l.ends[0] === id ? l.ends[1] : l.ends[0]));
    const c = new DistributedController({
      nodeId: id,
      tls: { ca, cert: readFileSync(paths.cert('KME', id), 'utf8'), key: readFileSync(paths.key('KME', id), 'utf8') },
      listen: endpoints.get(id)!,
      neighbours: new Map(peers.map((p) => [p, endpoints.get(p)!])),
      origins,
      sign: signer(readFileSync(paths.key('KME', id))),
      config,
      unitBits: 256,
      lowWaterUnits: 4,
      km: { stockUnits: (peer) => node.store.counts(peer, 'link').available, reachable: (peer) => node.kx.connected(peer) },
      refreshMs: 5000,
      ...more(node),
    });
    controllers.set(id, c);
  }
  for (const c of controllers.values()) await c.start();
  return controllers;
}
