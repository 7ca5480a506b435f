/**
 * The interworking role of a node (`qkdn-edge node --config iwn.yaml` with `role: interworking`;
 * Y.3818 clause 6.2): one process hosting KM-A and KM-B, each started from an ordinary node
 * configuration of its own network (its own data directory, store and storage key, TLS files from
 * its provider's CA, Kx and key sources into that network), joined by the interworking node of
 * host/interworking/iwn. Prints `{"event":"ready","role":"interworking",...}` when both serve and
 * the IWN's events as `{"event":"iwn",...}` lines.
 *
 *   role: interworking
 *   node: iwn
 *   transferLink: kxi-ab          # Kxi-1' between KM-A and KM-B
 *   sides:
 *     - provider: qkdn-a
 *       config: km-a.yaml         # a node configuration of QKDN-A (its node: the IWN's KM-A)
 *       shares: [{ sae: alice, rate: 10, bits: 4096 }]
 *     - provider: qkdn-b
 *       config: km-b.yaml
 *       shares: [{ sae: bob, rate: 10, bits: 4096 }]
 *
 * With both networks' controllers and managers outside the IWN (the unprimed case: Cxi and Mxi
 * between them, host/node/iwn-controller.ts), each side names its controller, reached over Ck:
 *       controller: { node: ctl-a, address: 127.0.0.1:7150, cert: pki-a/nodes/ctl-a.pem }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Ajv } from 'ajv';
import { KmConfigError } from '../km/errors.js';
import { schemaConfigError } from '../km/network-config.js';
import { ID_PATTERN } from '../pki/ids.js';
import { AUX_CHANNELS, type TamperEvent } from '../../firmware-bridge/aux/diagnostics.js';
import { InterworkingNode, type IwnOptions } from '../interworking/iwn/iwn.js';
import type { QclmDecision } from '../interworking/mxi/xlmo-iwf.js';
import { TransferJournal } from '../interworking/iwn/transfer-journal.js';
import { SHARED_SAE_SCHEMA, type SharedSae } from '../interworking/border/policy.js';
import { loadConfig, type NodeConfig } from './config.js';
import { startNode, type RunningNode } from './node.js';
import { fingerprintOf } from '../interworking/border/pinning.js';
import { isIwnControllerConfig, runIwnControllerCommand } from './iwn-controller.js';
import { configRole, readYamlConfig, runIwnProcess } from './iwn-process.js';

export interface IwnSideConfig {
  readonly provider: string;
  readonly node: NodeConfig;
  readonly shares: readonly SharedSae[];
  /** This network's controller IWF outside the IWN (its certificate, pinned, from this network's CA). */
  readonly controller?: { readonly node: string; readonly host: string; readonly port: number; readonly cert: string };
}

export interface IwnConfig {
  readonly role: 'interworking';
  readonly node: string;
  readonly transferLink: string;
  readonly sides: readonly [IwnSideConfig, IwnSideConfig];
  readonly statusIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly reportIntervalMs?: number;
}

const ID = { type: 'string', pattern: ID_PATTERN.source };
const SIDE = {
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'config', 'shares'],
  properties: {
    provider: ID,
    config: { type: 'string', minLength: 1 },
    shares: {
      type: 'array',
      maxItems: 1024,
      items: SHARED_SAE_SCHEMA,
    },
    controller: {
      type: 'object',
      additionalProperties: false,
      required: ['node', 'address', 'cert'],
      properties: { node: ID, address: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' }, cert: { type: 'string', minLength: 1 } },
    },
  },
} as const;
const IWN_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'node', 'transferLink', 'sides'],
  properties: {
    role: { const: 'interworking' },
    node: ID,
    transferLink: ID,
    sides: { type: 'array', minItems: 2, maxItems: 2, items: SIDE },
    statusIntervalMs: { type: 'integer', minimum: 10, maximum: 60_000 },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
    reportIntervalMs: { type: 'integer', minimum: 100, maximum: 86_400_000 },
  },
} as const;
const validate = new Ajv({ allErrors: true, strict: true }).compile(IWN_SCHEMA);

/** Whether a configuration file is an interworking node's (`role: interworking`). */
export function isIwnConfig(path: string): boolean {
  const role = configRole(path);
  return role === 'interworking' || role === 'interworking-controller';
}

export function loadIwnConfig(path: string): IwnConfig {
  const raw = readYamlConfig(path);
  if (!validate(raw)) throw schemaConfigError(validate.errors);
  const c = raw as { node: string; transferLink: string; statusIntervalMs?: number; timeoutMs?: number; reportIntervalMs?: number; sides: { provider: string; config: string; shares: SharedSae[]; controller?: { node: string; address: string; cert: string } }[] };
  const base = dirname(resolve(path));
  const controllerOf = (x: { node: string; address: string; cert: string }) => {
    const i = x.address.lastIndexOf(':');
    return { node: x.node, host: x.address.slice(0, i), port: Number(x.address.slice(i + 1)), cert: resolve(base, x.cert) };
  };
  const sides = c.sides.map((s) => ({ provider: s.provider, node: loadConfig(resolve(base, s.config)), shares: s.shares, ...(s.controller ? { controller: controllerOf(s.controller) } : {}) })) as unknown as [IwnSideConfig, IwnSideConfig];
  const [a, b] = sides;
  if (a.provider === b.provider) throw new KmConfigError('sides', 'the two sides of an IWN are two providers');
  if (a.node.dataDir === b.node.dataDir) throw new KmConfigError('sides', 'KM-A and KM-B keep their own stores: give them two data directories');
  if (a.node.km.unitBits !== b.node.km.unitBits) throw new KmConfigError('sides', 'KM-A and KM-B must use one key unit size');
  if (!a.controller !== !b.controller) throw new KmConfigError('sides', "both controllers in the IWN (Cxi') or both outside it (Cxi): give both sides a controller, or neither");
  return { role: 'interworking', node: c.node, transferLink: c.transferLink, sides, ...(c.statusIntervalMs ? { statusIntervalMs: c.statusIntervalMs } : {}), ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}), ...(c.reportIntervalMs ? { reportIntervalMs: c.reportIntervalMs } : {}) };
}

export interface RunningIwn {
  readonly iwn: InterworkingNode;
  readonly sides: readonly [RunningNode, RunningNode];
  stop(): Promise<void>;
}

export async function startIwn(c: IwnConfig, o: { readonly tap?: IwnOptions['tap'] } = {}): Promise<RunningIwn> {
  let iwn: InterworkingNode | null = null;
  // Until the IWN is up, supplies for the other network's SAEs are refused: none may be reserved with nowhere to go.
  const hook = (side: 'a' | 'b') => ({
    kx: (peer: string, m: Parameters<InterworkingNode['kx']>[2]) =>
      iwn
        ? iwn.kx(side, peer, m)
        : m.name === 'KeySupplyNotification'
          ? { name: 'KeySupplyNotificationResponse' as const, body: { status: 'ERR_KM_NO_ROUTE' as const, reason: 'the interworking node is starting' } }
          : // a Void may concern a transfer the journals settle first: its sender's outbox tries again
            m.name === 'Void'
            ? { name: 'Response' as const, body: { status: 'ERR_KM_TIMEOUT' as const, reason: 'the interworking node is starting' } }
            : null,
  });
  const a = await startNode(c.sides[0].node, undefined, { ...hook('a'), provider: c.sides[0].provider });
  let b: RunningNode;
  try {
    b = await startNode(c.sides[1].node, undefined, { ...hook('b'), provider: c.sides[1].provider });
  } catch (e) {
    await a.stop();
    throw e;
  }
  const journals = [TransferJournal.open(c.sides[0].node.dataDir), TransferJournal.open(c.sides[1].node.dataDir)] as const;
  const closeJournals = () => Promise.all(journals.map((j) => j.close()));
  // Fig 14's outcome on each side is an alarm of that network's manager (when it runs).
  const alarmOf = (n: RunningNode, peerProvider: string) => (d: QclmDecision) =>
    n.management?.alarms.raise({
      type: 'interworking-transfer',
      source: `peer-network:${peerProvider}`,
      text: `a key transfer with ${peerProvider} failed (${d.diagnosis.scope === 'local' ? 'on this side' : 'on its side'}): ${d.diagnosis.cause}; the QCLM decided ${d.action}`.slice(0, 300),
      details: { fault: d.fault, cause: d.diagnosis.cause, scope: d.diagnosis.scope, action: d.action },
    });
  const tlsOf = (n: NodeConfig) => ({ key: readFileSync(n.tls.key, 'utf8'), cert: readFileSync(n.tls.cert, 'utf8'), ca: readFileSync(n.tls.ca, 'utf8') });
  const controllerOf = (s: IwnSideConfig) => {
    if (!s.controller) return {};
    const ctl = s.controller;
    return { controller: { provider: s.provider, node: ctl.node, host: ctl.host, port: ctl.port, fingerprint: fingerprintOf(readFileSync(ctl.cert, 'utf8')), ca: readFileSync(s.node.tls.ca, 'utf8') } };
  };
  try {
    iwn = await InterworkingNode.start({
      node: c.node,
      transferLink: c.transferLink,
      a: { provider: c.sides[0].provider, km: a.km, tls: tlsOf(c.sides[0].node), shares: c.sides[0].shares, journal: journals[0], onDecision: alarmOf(a, c.sides[1].provider), ...controllerOf(c.sides[0]) },
      b: { provider: c.sides[1].provider, km: b.km, tls: tlsOf(c.sides[1].node), shares: c.sides[1].shares, journal: journals[1], onDecision: alarmOf(b, c.sides[0].provider), ...controllerOf(c.sides[1]) },
      ...(c.statusIntervalMs ? { statusIntervalMs: c.statusIntervalMs } : {}),
      ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
      ...(c.reportIntervalMs ? { reportIntervalMs: c.reportIntervalMs } : {}),
      ...(o.tap ? { tap: o.tap } : {}),
    });
  } catch (e) {
    await Promise.all([a.stop(), b.stop()]);
    await closeJournals();
    throw e;
  }
  const running = iwn;
  // A tamper switch of either side's aux board guards the whole IWN: both KMs are zeroized.
  const auxPaths = c.sides.flatMap((s) => (s.node.aux ? [s.node.aux.port] : []));
  const onTamper = (m: unknown) => {
    const e = m as TamperEvent & { path?: string };
    if (e.state === 'open' && auxPaths.includes(e.path ?? '')) void running.tamper('aux tamper switch');
  };
  subscribe(AUX_CHANNELS.tamper, onTamper);
  return {
    iwn: running,
    sides: [a, b],
    stop: async () => {
      unsubscribe(AUX_CHANNELS.tamper, onTamper);
      await running.stop();
      await Promise.all([a.stop(), b.stop()]);
      await closeJournals();
    },
  };
}

/** The `node` command for `role: interworking` (and, through it, `role: interworking-controller`). */
export async function runIwnCommand(path: string): Promise<number> {
  if (isIwnControllerConfig(path)) return runIwnControllerCommand(path);
  return runIwnProcess<IwnConfig, RunningIwn>({
    load: () => loadIwnConfig(path),
    node: (c) => c.node,
    start: (c) => startIwn(c),
    ready: (c, r) => ({ role: 'interworking', sides: r.sides.map((s, i) => ({ provider: c.sides[i]!.provider, node: s.id, api: s.apiPort, kx: s.kxPort })) }),
    // An operator's (or a test's) tamper line on stdin: the same response as the tamper switch.
    stdin: (r, d) => {
      if (d.toString().split('\n').includes('tamper')) void r.iwn.tamper('tamper command on stdin');
    },
  });
}
