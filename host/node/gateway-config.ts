/**
 * The optional `gateway` section of a node configuration: the node is a gateway node (GWN, ITU-T
 * Y.3818 clause 6.1) at the border of its provider's network. It names the provider, where the
 * border endpoint listens, the peer GWN (its provider, node ID, address, pinned certificate
 * fingerprint and its provider's CA), the Qx link the two share (its own key source, outside
 * the network's links: the peer is not a node of this network), the peer's SAEs this gateway
 * fronts inside its network (each listed in `network.saes` as served by this node) and the border
 * policy: which of its own provider's SAEs it shares with the peer, at what rate and key size.
 *
 *   gateway:
 *     provider: qkdn-a
 *     border: { host: 127.0.0.1, port: 7400 }
 *     peer: { provider: qkdn-b, node: gwn-b, address: 127.0.0.1:7500, fingerprint: 'AB:CD:…', ca: ../b/ca.pem }
 *     qx: { id: qx-ab, source: { type: simulated, rate: 1000, seed: <hex, the same at both GWNs> } }
 *     foreignSaes: [bob]
 *     shared: [{ sae: alice, rate: 100, bits: 256 }]
 *     record: border.jsonl        # optional: every payload crossing the border, for audits
 *     mxi:                        # optional: this provider's XLMO on the GWN (Fig 11)
 *       id: xlmo-a
 *       key: xlmo-a.pem           # its X25519 private key (PKCS#8 PEM)
 *       peer: { id: xlmo-b, publicKey: <the peer XLMO's raw X25519 public key, base64url> }
 *       reportMs: 60000           # how often performance and security reports are packed and sent
 */
import { KmConfigError } from '../km/errors.js';
import { NETWORK_SCHEMA, type SimulatedSourceConfig } from '../km/network-config.js';
import { ID_PATTERN } from '../pki/ids.js';
import { SHARED_SAE_SCHEMA } from '../interworking/border/policy.js';

export interface GatewayConfig {
  readonly provider: string;
  readonly border: { readonly host: string; readonly port: number };
  readonly peer: { readonly provider: string; readonly node: string; readonly address: string; readonly fingerprint: string; readonly ca: string };
  readonly qx: { readonly id: string; readonly source: SimulatedSourceConfig };
  readonly foreignSaes: readonly string[];
  readonly shared: readonly { readonly sae: string; readonly rate: number; readonly bits: number }[];
  /** Time allowed to each border exchange (default 10 s). */
  readonly timeoutMs?: number;
  readonly record?: string;
  readonly mxi?: { readonly id: string; readonly key: string; readonly peer: { readonly id: string; readonly publicKey: string }; readonly reportMs?: number };
}

const ID = { type: 'string', pattern: ID_PATTERN.source };

export const GATEWAY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'border', 'peer', 'qx', 'foreignSaes', 'shared'],
  properties: {
    provider: ID,
    border: { type: 'object', additionalProperties: false, required: ['host', 'port'], properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
    peer: {
      type: 'object',
      additionalProperties: false,
      required: ['provider', 'node', 'address', 'fingerprint', 'ca'],
      properties: {
        provider: ID,
        node: ID,
        address: { type: 'string', pattern: '^.+:[0-9]{1,5}$' },
        fingerprint: { type: 'string', pattern: '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' },
        ca: { type: 'string', minLength: 1 },
      },
    },
    qx: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'source'],
      properties: {
        id: ID,
        // a simulated source, as a network link's (the Qx link's QKD modules are not wired yet)
        source: NETWORK_SCHEMA.properties.links.items.properties.source.oneOf[0],
      },
    },
    foreignSaes: { type: 'array', uniqueItems: true, items: ID },
    shared: { type: 'array', items: SHARED_SAE_SCHEMA },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
    record: { type: 'string', minLength: 1 },
    mxi: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'key', 'peer'],
      properties: {
        id: ID,
        key: { type: 'string', minLength: 1 },
        peer: { type: 'object', additionalProperties: false, required: ['id', 'publicKey'], properties: { id: ID, publicKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } } },
        reportMs: { type: 'integer', minimum: 100, maximum: 86_400_000 },
      },
    },
  },
} as const;

/** Cross-references of the gateway section against the node and its network. */
export function checkGateway(g: GatewayConfig, node: string, saes: readonly { readonly id: string; readonly node: string }[]): void {
  const fail = (path: string, msg: string): never => {
    throw new KmConfigError(`gateway.${path}`, msg);
  };
  if (g.peer.provider === g.provider) fail('peer.provider', 'the peer GWN belongs to another provider');
  if (g.peer.node === node) fail('peer.node', 'the peer GWN is another node');
  const servedBy = new Map(saes.map((s) => [s.id, s.node]));
  g.foreignSaes.forEach((s, i) => {
    if (servedBy.get(s) !== node) fail(`foreignSaes[${i}]`, `${s} must be in network.saes as served by ${node}, the gateway fronting it`);
  });
  g.shared.forEach((s, i) => {
    if (!servedBy.has(s.sae)) fail(`shared[${i}].sae`, `${s.sae} is not in network.saes`);
    if (g.foreignSaes.includes(s.sae)) fail(`shared[${i}].sae`, `${s.sae} is the peer's SAE, not one to share`);
  });
}
