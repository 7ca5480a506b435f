/**
 * The gateway wiring of a node (role gateway: a `gateway` section in its configuration, see
 * gateway-config.ts): the interworking functions of host/interworking/gwn/gateway.ts on this
 * node's key manager and Kx transport, with the Qx link's key source, the pinned peer GWN and
 * the border policy. Gateway events are printed as JSON lines (`{"event":"gateway",...}`); with
 * `record`, every payload crossing the border is appended to that file as a JSON line
 * `{"dir":"out"|"in","hex":...}` (an audit recording: payloads are what the border filter let
 * through, ciphertext included, never a key).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type { KeyManager } from '../km/key-manager.js';
import type { KxAnswer, KxTransport } from '../km/kx/transport.js';
import type { KxMessage } from '../km/kx/messages.js';
import { KmConfigError } from '../km/errors.js';
import { Gateway } from '../interworking/gwn/gateway.js';
import { createKeySource } from './key-sources.js';
import { parseEndpoint, type NodeConfig } from './config.js';

export interface NodeGateway {
  readonly gateway: Gateway;
  readonly port: number;
  /** The Kx requests the gateway answers itself (undefined: the key manager's). */
  onKx(peer: string, m: KxMessage): Promise<KxAnswer> | undefined;
  stop(): Promise<void>;
}

export async function startNodeGateway(c: NodeConfig, km: KeyManager, kx: KxTransport, tls: { key: string; cert: string }): Promise<NodeGateway | null> {
  const g = c.gateway;
  if (!g) return null;
  let ca: string;
  try {
    ca = readFileSync(g.peer.ca, 'utf8');
  } catch (e) {
    throw new KmConfigError('gateway.peer.ca', `cannot read ${g.peer.ca}: ${(e as Error).message}`);
  }
  const { host, port } = parseEndpoint(g.peer.address);
  const qxLink = { id: g.qx.id, ends: [c.node, g.peer.node] as const, source: g.qx.source };
  const qxSource = await createKeySource({ link: qxLink, node: c.node, peer: g.peer.node, unitBits: c.km.unitBits, config: c });
  const print = (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ event: 'gateway', node: c.node, ...e })}\n`);
  const record = g.record;
  const gateway = new Gateway({
    provider: g.provider,
    km,
    kx,
    tls,
    listen: g.border,
    peer: { provider: g.peer.provider, node: g.peer.node, fingerprint: g.peer.fingerprint, ca, host, port },
    qx: g.qx.id,
    qxSource,
    foreignSaes: g.foreignSaes,
    shared: g.shared,
    timeoutMs: g.timeoutMs ?? 10_000,
    syncIntervalMs: c.km.syncIntervalMs,
    event: print,
    ...(record ? { tap: (dir: 'out' | 'in', payload: Buffer) => appendFileSync(record, `${JSON.stringify({ dir, hex: payload.toString('hex') })}\n`) } : {}),
  });
  const borderPort = await gateway.start();
  return { gateway, port: borderPort, onKx: (peer, m) => gateway.onKx(peer, m), stop: () => gateway.stop() };
}
