/**
 * TopologyPush (type 17, Ck, controller → KM): configuration control. The network's nodes, links
 * and SAEs at configuration `version`; the KM installs it through its NetworkView without a
 * restart and refuses one older than what it holds (Ack ERR_CTL_STALE_VERSION).
 *
 *   { version: uint, nodes: [id], links: [{ id: id, a: id, b: id }], saes: [{ sae: id, node: id }] }
 */
import { body, uint } from '../../km/kx/fields.js';
import { configFields, networkConfig } from '../fields.js';
import type { NetworkConfig } from '../view.js';
import type { ControlMessageSpec } from '../wire.js';

export interface TopologyPush {
  readonly version: number;
  readonly config: NetworkConfig;
}

export const TopologyPushSpec: ControlMessageSpec<'TopologyPush', TopologyPush> = {
  name: 'TopologyPush',
  type: 17,
  answer: false,
  encode: (m) => ({ version: m.version, ...configFields(m.config) }),
  decode(v) {
    const M = 'TopologyPush';
    const b = body(v, M);
    return { version: uint(b, M, 'version'), config: networkConfig(b, M) };
  },
  example: { version: 3, config: { nodes: ['A', 'B'], links: [{ id: 'A~B', ends: ['A', 'B'] }], saes: { alice: 'A', bob: 'B' } } },
  vector:
    '8501110700a46776657273696f6e03656e6f6465738261416142656c696e6b7381a362696463417e426161614161626142647361657382a26373616565616c696365646e6f64656141a26373616563626f62646e6f64656142',
};
