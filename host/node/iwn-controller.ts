/**
 * The interworking-controller role of a node (`qkdn-edge node --config ctl-a.yaml` with `role:
 * interworking-controller`): one network's controller and manager interworking functions outside
 * the interworking node (host/interworking/iwn/controller-host.ts; Y.3818 clause 6.2, the unprimed
 * case). It serves Ck to the IWN's KM of its network and speaks Cxi and Mxi with the other
 * network's controller host across a pinned border. Prints `{"event":"ready","role":
 * "interworking-controller",...}` when it serves and the IWFs' events as `{"event":"iwn",...}`.
 *
 *   role: interworking-controller
 *   node: ctl-a                    # its certificate's CN (pki-a/nodes/ctl-a.pem)
 *   provider: qkdn-a
 *   peerProvider: qkdn-b
 *   tls: { ca: pki-a/ca.pem, cert: pki-a/nodes/ctl-a.pem, key: pki-a/nodes/ctl-a.key }
 *   network: network-a.yaml        # this network (what its border filter keeps inside)
 *   km: { node: iwn-a, cert: pki-a/nodes/iwn-a.pem }            # the IWN's KM, pinned; dials in on ck
 *   ck: 127.0.0.1:7150
 *   border: 127.0.0.1:7151        # omit on the dialling side
 *   peer: { node: ctl-b, cert: pki-b/nodes/ctl-b.pem, ca: pki-b/ca.pem, address: 127.0.0.1:7251 }  # address on the dialling side
 *   transferLink: kxi-ab
 *   shares: [{ sae: alice, rate: 10, bits: 4096 }]
 *   foreign: [bob]
 *   mxi: { id: xlmo-a, key: xlmo-a.pem, peer: { id: xlmo-b, publicKey: <base64url X25519> } }
 *   record: border-a.jsonl         # optional: every payload crossing the border, a JSON line each
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { KmConfigError } from '../km/errors.js';
import { schemaConfigError } from '../km/network-config.js';
import { ID_PATTERN } from '../pki/ids.js';
import { fingerprintOf } from '../interworking/border/pinning.js';
import { SHARED_SAE_SCHEMA, type SharedSae } from '../interworking/border/policy.js';
import { IwnControllerHost, type IwnControllerHostOptions } from '../interworking/iwn/controller-host.js';
import { publicKeyFromRaw, rawPublicKey } from '../interworking/mxi/seal.js';
import { loadNetworkConfig } from './config.js';
import { configRole, readYamlConfig, runIwnProcess } from './iwn-process.js';

const ID = { type: 'string', pattern: ID_PATTERN.source };
const ADDRESS = { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' };
const FILE = { type: 'string', minLength: 1 };
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'node', 'provider', 'peerProvider', 'tls', 'network', 'km', 'ck', 'peer', 'transferLink', 'shares', 'foreign', 'mxi'],
  properties: {
    role: { const: 'interworking-controller' },
    node: ID,
    provider: ID,
    peerProvider: ID,
    tls: { type: 'object', additionalProperties: false, required: ['ca', 'cert', 'key'], properties: { ca: FILE, cert: FILE, key: FILE } },
    network: FILE,
    km: { type: 'object', additionalProperties: false, required: ['node', 'cert'], properties: { node: ID, cert: FILE } },
    ck: ADDRESS,
    border: ADDRESS,
    peer: { type: 'object', additionalProperties: false, required: ['node', 'cert', 'ca'], properties: { node: ID, cert: FILE, ca: FILE, address: ADDRESS } },
    transferLink: ID,
    shares: { type: 'array', maxItems: 1024, items: SHARED_SAE_SCHEMA },
    foreign: { type: 'array', maxItems: 1024, items: ID },
    mxi: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'key', 'peer'],
      properties: { id: ID, key: FILE, peer: { type: 'object', additionalProperties: false, required: ['id', 'publicKey'], properties: { id: ID, publicKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } } } },
    },
    statusIntervalMs: { type: 'integer', minimum: 10, maximum: 60_000 },
    reportIntervalMs: { type: 'integer', minimum: 100, maximum: 86_400_000 },
    record: FILE,
  },
} as const;
const validate = new Ajv({ allErrors: true, strict: true }).compile(SCHEMA);

interface RawConfig {
  node: string;
  provider: string;
  peerProvider: string;
  tls: { ca: string; cert: string; key: string };
  network: string;
  km: { node: string; cert: string };
  ck: string;
  border?: string;
  peer: { node: string; cert: string; ca: string; address?: string };
  transferLink: string;
  shares: SharedSae[];
  foreign: string[];
  mxi: { id: string; key: string; peer: { id: string; publicKey: string } };
  statusIntervalMs?: number;
  reportIntervalMs?: number;
  record?: string;
}

export interface IwnControllerConfig {
  readonly options: Omit<IwnControllerHostOptions, 'tap'>;
  readonly record?: string;
}

export function isIwnControllerConfig(path: string): boolean {
  return configRole(path) === 'interworking-controller';
}

function address(a: string): { host: string; port: number } {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

export function loadIwnControllerConfig(path: string): IwnControllerConfig {
  const raw = readYamlConfig(path);
  if (!validate(raw)) throw schemaConfigError(validate.errors);
  const c = raw as RawConfig;
  const base = dirname(resolve(path));
  const file = (field: string, f: string) => {
    try {
      return readFileSync(resolve(base, f), 'utf8');
    } catch (e) {
      throw new KmConfigError(field, `cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const network = loadNetworkConfig(resolve(base, c.network));
  if (!network.nodes.some((n) => n.id === c.km.node)) throw new KmConfigError('km.node', `${c.km.node} is not a node of ${c.provider}'s network`);
  for (const sae of c.foreign)
    if (!network.saes.some((s) => s.id === sae && s.node === c.km.node)) throw new KmConfigError('foreign', `${c.provider}'s network must place ${sae} on ${c.km.node}, the IWN's KM standing for it`);
  let privateKey;
  try {
    privateKey = createPrivateKey(file('mxi.key', c.mxi.key));
  } catch (e) {
    throw e instanceof KmConfigError ? e : new KmConfigError('mxi.key', `not a private key: ${(e as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'x25519') throw new KmConfigError('mxi.key', `${c.mxi.key} is a ${privateKey.asymmetricKeyType} key, not X25519`);
  const peerKey = new Uint8Array(Buffer.from(c.mxi.peer.publicKey, 'base64url'));
  publicKeyFromRaw(peerKey);
  const ca = file('tls.ca', c.tls.ca);
  return {
    options: {
      provider: c.provider,
      peerProvider: c.peerProvider,
      node: c.node,
      tls: { key: file('tls.key', c.tls.key), cert: file('tls.cert', c.tls.cert) },
      km: { provider: c.provider, node: c.km.node, fingerprint: fingerprintOf(file('km.cert', c.km.cert)), ca },
      ck: address(c.ck),
      peer: { provider: c.peerProvider, node: c.peer.node, fingerprint: fingerprintOf(file('peer.cert', c.peer.cert)), ca: file('peer.ca', c.peer.ca), ...(c.peer.address ? address(c.peer.address) : {}) },
      ...(c.border ? { listen: address(c.border) } : {}),
      topology: { nodes: network.nodes.map((n) => n.id), links: network.links.map((l) => ({ id: l.id, ends: l.ends })), saes: new Map(network.saes.map((s) => [s.id, s.node])) },
      shares: c.shares,
      foreign: c.foreign,
      transferLink: c.transferLink,
      xlmo: { keys: { id: c.mxi.id, privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) }, peer: { id: c.mxi.peer.id, publicKey: peerKey } },
      ...(c.statusIntervalMs ? { statusIntervalMs: c.statusIntervalMs } : {}),
      ...(c.reportIntervalMs ? { reportIntervalMs: c.reportIntervalMs } : {}),
    },
    ...(c.record ? { record: resolve(base, c.record) } : {}),
  };
}

/** The `node` command for `role: interworking-controller`. */
export function runIwnControllerCommand(path: string): Promise<number> {
  return runIwnProcess<IwnControllerConfig, IwnControllerHost>({
    load: () => loadIwnControllerConfig(path),
    node: (c) => c.options.node,
    start: (c) => {
      const record = c.record;
      return IwnControllerHost.start({ ...c.options, ...(record ? { tap: (dir: 'out' | 'in', payload: Buffer) => appendFileSync(record, `${JSON.stringify({ dir, hex: payload.toString('hex') })}\n`) } : {}) });
    },
    ready: (c) => ({ role: 'interworking-controller', provider: c.options.provider, ck: c.options.ck.port }),
  });
}
