/**
 * ConfigAdvertisement (type 49, node ↔ node, distributed form): configuration control without a
 * central controller. A version of the network's configuration (nodes, links, SAEs), made at one
 * node (`origin`, where an operator changed it) and flooded to every node over the same
 * connections as the link-state advertisements; every node installs it without a restart. `sig`
 * is the origin's ECDSA P-256 signature (the key of its node certificate) over signedBytes():
 * everything but `sig`. A node takes a version above the one it holds; a lower one is stale, and
 * the same version with another content is a conflict: both are refused, counted and change nothing.
 *
 *   { origin: id, version: uint, nodes: [id], links: [{ id: id, a: id, b: id }],
 *     saes: [{ sae: id, node: id }], sig: bytes }
 */
import { body, bytes, id, uint } from '../../km/kx/fields.js';
import { CONTROL_LIMITS, configFields, networkConfig } from '../fields.js';
import type { NetworkConfig } from '../view.js';
import { cbor, type ControlMessageSpec } from '../wire.js';

export interface ConfigAdvertisement {
  readonly origin: string;
  readonly version: number;
  readonly config: NetworkConfig;
  readonly sig: Uint8Array;
}

/** The bytes the origin signs: [origin, version, configuration] in canonical CBOR. */
export function signedConfigBytes(a: Pick<ConfigAdvertisement, 'origin' | 'version' | 'config'>): Buffer {
  return cbor(['qkdn-config-v1', a.origin, a.version, configFields(a.config)]);
}

export const ConfigAdvertisementSpec: ControlMessageSpec<'ConfigAdvertisement', ConfigAdvertisement> = {
  name: 'ConfigAdvertisement',
  type: 49,
  answer: false,
  encode: (m) => ({ origin: m.origin, version: m.version, ...configFields(m.config), sig: m.sig }),
  decode(v) {
    const M = 'ConfigAdvertisement';
    const b = body(v, M);
    return { origin: id(b, M, 'origin'), version: uint(b, M, 'version'), config: networkConfig(b, M), sig: bytes(b, M, 'sig', CONTROL_LIMITS.signature) };
  },
  example: { origin: 'A', version: 2, config: { nodes: ['A', 'B'], links: [{ id: 'A~B', ends: ['A', 'B'] }], saes: { alice: 'A' } }, sig: Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]) },
  vector: '850118310700a6666f726967696e61416776657273696f6e02656e6f6465738261416142656c696e6b7381a362696463417e426161614161626142647361657381a26373616565616c696365646e6f6465614163736967483006020101020101',
};
