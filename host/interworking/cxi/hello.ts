/**
 * CxiHello (Cxi type 0x30; Y.3818 clause 6.1 Cxi, clause 8 configurations): the first message
 * between the two QKDN controllers. It says which provider the controller speaks for, the control
 * form of its network (`distributed`: a controller per node, Figs 3/6; `centralized`: one
 * controller for the network, Figs 4/5/7/8), which Cxi capabilities it implements and which of its
 * border nodes face this peer. Answered by a CxiHello with `re`.
 *
 *   { controller: id, provider: id, form: distributed|centralized, versions: [uint],
 *     capabilities: [summary|route|status|reroute], borders: [id], re?: uint }
 */
import { array, id, object, oneOf, uint } from '../schema.js';
import { defineMessage } from '../spec.js';

export const CONTROL_FORMS = ['distributed', 'centralized'] as const;
export type ControlForm = (typeof CONTROL_FORMS)[number];
export const CXI_CAPABILITIES = ['summary', 'route', 'status', 'reroute'] as const;
export type CxiCapability = (typeof CXI_CAPABILITIES)[number];

export interface CxiHello {
  readonly controller: string;
  readonly provider: string;
  readonly form: ControlForm;
  readonly versions: readonly number[];
  readonly capabilities: readonly CxiCapability[];
  readonly borders: readonly string[];
  readonly re?: number;
}

export const CxiHelloSpec = defineMessage<'CxiHello', CxiHello>({
  name: 'CxiHello',
  rp: 'Cxi',
  type: 0x30,
  answer: false,
  schema: object(
    {
      controller: id,
      provider: id,
      form: oneOf(CONTROL_FORMS),
      versions: array(uint(255, 1), 1, 8, true),
      capabilities: array(oneOf(CXI_CAPABILITIES), 1, CXI_CAPABILITIES.length, true),
      borders: array(id, 1, 64, true),
    },
    { re: uint() },
  ),
  bytes: [],
  freeText: [],
  example: { controller: 'ctl-a', provider: 'qkdn-a', form: 'centralized', versions: [1], capabilities: ['summary', 'route', 'status', 'reroute'], borders: ['gwn-a'] },
  vector: '850118300700a66a636f6e74726f6c6c65726563746c2d616870726f766964657266716b646e2d6164666f726d6b63656e7472616c697a65646876657273696f6e7381016c6361706162696c6974696573846773756d6d61727965726f75746566737461747573677265726f75746567626f7264657273816567776e2d61',
});
