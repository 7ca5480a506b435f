/**
 * The gateway wiring of a node (role gateway: a `gateway` section in its configuration, see
 * gateway-config.ts): the interworking functions of host/interworking/gwn/gateway.ts on this
 * node's key manager and Kx transport, with the Qx link's key source, the pinned peer GWN and
 * the border policy. Gateway events are printed as JSON lines (`{"event":"gateway",...}`); with
 * `record`, every payload crossing the border is appended to that file as a JSON line
 * `{"dir":"out"|"in","hex":...}` (an audit recording: payloads are what the border filter let
 * through, ciphertext included, never a key).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import type { KeyManager } from '../km/key-manager.js';
import type { KxAnswer, KxTransport } from '../km/kx/transport.js';
import type { KxMessage } from '../km/kx/messages.js';
import { KmConfigError } from '../km/errors.js';
import { Gateway } from '../interworking/gwn/gateway.js';
import { GwnProcedures } from '../interworking/gwn/procedures.js';
import { publicKeyFromRaw, rawPublicKey } from '../interworking/mxi/seal.js';
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
  let procedures: GwnProcedures | null = null;
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
    event: (e) => {
      print(e);
      procedures?.onGatewayEvent(e);
    },
    onMessage: (m) => procedures?.onMessage(m),
    ...(record ? { tap: (dir: 'out' | 'in', payload: Buffer) => appendFileSync(record, `${JSON.stringify({ dir, hex: payload.toString('hex') })}\n`) } : {}),
  });
  procedures = new GwnProcedures({
    gateway,
    km,
    connected: (peer) => kx.connected(peer),
    provider: g.provider,
    peerProvider: g.peer.provider,
    peerNode: g.peer.node,
    qx: g.qx.id,
    shared: g.shared,
    foreignSaes: g.foreignSaes,
    ...(g.mxi ? { xlmo: { keys: xlmoKeys(g.mxi), peer: { id: g.mxi.peer.id, publicKey: peerXlmoKey(g.mxi.peer.publicKey) }, reportMs: g.mxi.reportMs ?? 60_000 } } : {}),
    event: print,
  });
  const borderPort = await gateway.start();
  procedures.start();
  const procs = procedures;
  const foreign = new Set(g.foreignSaes);
  return {
    gateway,
    port: borderPort,
    onKx: (peer, m) => {
      // A supply across the border waits for, and obeys, the rerouting the controllers agreed (Fig 10).
      if (m.name !== 'KeySupplyNotification' || !m.body.slaves.some((s) => foreign.has(s))) return gateway.onKx(peer, m);
      return procs.admit(m.body.master, m.body.slaves).then((a) => (a.ok ? gateway.onKx(peer, m)! : { name: 'KeySupplyNotificationResponse', body: { status: 'ERR_KM_NO_ROUTE', reason: a.reason } }));
    },
    stop: async () => {
      procs.stop();
      await gateway.stop();
    },
  };
}

function xlmoKeys(m: NonNullable<NodeConfig['gateway']>['mxi'] & object): { id: string; privateKey: ReturnType<typeof createPrivateKey>; publicKey: Uint8Array } {
  let privateKey;
  try {
    privateKey = createPrivateKey(readFileSync(m.key));
  } catch (e) {
    throw new KmConfigError('gateway.mxi.key', `cannot read an X25519 key from ${m.key}: ${(e as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'x25519') throw new KmConfigError('gateway.mxi.key', `${m.key} is a ${privateKey.asymmetricKeyType} key, not X25519`);
  return { id: m.id, privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

function peerXlmoKey(b64: string): Uint8Array {
  const raw = new Uint8Array(Buffer.from(b64, 'base64url'));
  publicKeyFromRaw(raw); // a malformed key fails the configuration now, not the first Mxi message
  return raw;
}
