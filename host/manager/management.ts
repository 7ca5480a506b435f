/**
 * The management layer of one node, put together in one place: its store (manager.lmdb), alarms,
 * metrics registry, performance and accounting, the per-layer managers (QLM, KMLM, QCLM), the XLMO
 * orchestrating them, security management (tamper response) and configuration management. The
 * node constructs one (`startManagement`) with its KM and, when it has a management port, the
 * management server (server.ts).
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { ManagedKm } from './view.js';
import { Accounting } from './accounting.js';
import { AlarmManager } from './alarms.js';
import { ConfigurationManager, type ConfigTarget, type ManagedConfig } from './configuration.js';
import { controlTarget, type ConfigurationControlPort } from './control-target.js';
import { ManagementError } from './errors.js';
import { Kmlm } from './kmlm.js';
import { ManagerMetrics } from './metrics.js';
import { QosTracker, TimeSeries } from './performance.js';
import { Qclm } from './qclm.js';
import { Qlm } from './qlm.js';
import { SupplyWatch } from './supply-watch.js';
import { SecurityManager } from './security.js';
import { createManagementServer, managementPort } from './server.js';
import { ManagerStore } from './store.js';
import { Xlmo } from './xlmo.js';

export interface ManagementOptions {
  readonly km: ManagedKm;
  /** Where manager.lmdb goes (the node's data directory). */
  readonly dataDir: string;
  /** The aux I/O board's device path, when the node has one (tamper response). */
  readonly auxPath?: string;
  /** The provider of this node's network, when one process hosts KMs of two (an interworking node): only its border events are this layer's. */
  readonly provider?: string;
  readonly qberThreshold?: number;
  /** Alarm rate limit: burst, then per second. */
  readonly alarmBurst?: number;
  readonly alarmsPerSecond?: number;
  /** Window of the Y.3807 QoS parameters. */
  readonly qosWindowMs?: number;
  /** The key supply API's outage alarm: share of failed or refused requests, over at least so many, in a window. */
  readonly apiOutage?: { readonly ratio?: number; readonly minRequests?: number; readonly windowMs?: number };
  /** Where run-time configuration takes effect; default: the KM's topology (routes). */
  readonly configTarget?: ConfigTarget;
  /**
   * The controller's configuration control, when the node runs a controller: the network structure
   * of each version is applied through it (control-target.ts), the rest as without it.
   */
  readonly control?: ConfigurationControlPort;
  readonly log?: Logger;
  readonly server?: { readonly host: string; readonly port: number; readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly ca: string | Buffer } };
}

export interface Management {
  readonly node: string;
  readonly store: ManagerStore;
  readonly alarms: AlarmManager;
  readonly metrics: ManagerMetrics;
  readonly series: TimeSeries;
  readonly qos: QosTracker;
  readonly accounting: Accounting;
  readonly qlm: Qlm;
  readonly kmlm: Kmlm;
  readonly qclm: Qclm;
  readonly xlmo: Xlmo;
  readonly security: SecurityManager;
  readonly configuration: ConfigurationManager;
  readonly log: Logger;
  readonly zeroized: boolean;
  /** The management server's port, when it has one. */
  readonly port: number | null;
  stop(): Promise<void>;
}

/**
 * The default configuration target until the controller's configuration control takes this
 * role: routes go to the KM's network view (a new topology under the next version, read by every
 * relay that starts after), the QBER threshold to the QLM.
 */
export function networkViewTarget(km: ManagedKm, qlm: () => Qlm): ConfigTarget {
  return {
    check(c) {
      const t = km.network?.current() ?? km.topology;
      if (c.network.links && JSON.stringify(c.network.links.map((l) => l.id).sort()) !== JSON.stringify(t.links.map((l) => l.id).sort()))
        throw new ManagementError('ERR_MGMT_UNAVAILABLE', 'this node runs no controller: its links come from its configuration file, not from configuration management', [{ parameter: '/network/links', reason: 'no configuration control here' }]);
      const pairs = new Set(t.links.map((l) => [...l.ends].sort().join('~')));
      const nodes = new Set(t.nodes);
      c.network.routes.forEach((r, i) => {
        const bad = (reason: string): never => {
          throw new ManagementError('ERR_MGMT_CONFIG_INVALID', `network.routes[${i}]: ${reason}`, [{ parameter: `/network/routes/${i}`, reason }]);
        };
        if (new Set(r).size !== r.length) bad('a route visits a node twice');
        for (const n of r) if (!nodes.has(n)) bad(`unknown node ${n}`);
        for (let j = 1; j < r.length; j++) if (!pairs.has([r[j - 1]!, r[j]!].sort().join('~'))) bad(`no link between ${r[j - 1]} and ${r[j]}`);
      });
      const same = JSON.stringify(c.network.routes) === JSON.stringify(routesOf(t));
      if (!km.network && !same) throw new ManagementError('ERR_MGMT_UNAVAILABLE', 'this KM takes no route changes at run time (it has no network view)');
    },
    apply(c) {
      const view = km.network;
      if (view && JSON.stringify(c.network.routes) !== JSON.stringify(routesOf(view.current()))) {
        const routes = new Map(c.network.routes.map((r) => [`${r[0]}>${r[r.length - 1]}`, [...r]]));
        view.replace({ ...view.current(), routes }, view.version + 1);
      }
      qlm().thresholds = { qberAlarm: c.alarms.qberThreshold };
    },
  };
}

function routesOf(t: { readonly routes?: ReadonlyMap<string, readonly string[]> }): string[][] {
  return [...(t.routes?.values() ?? [])].map((r) => [...r]);
}

export async function startManagement(o: ManagementOptions): Promise<Management> {
  const km = o.km;
  const node = km.nodeId;
  const log = o.log ?? pino({ level: 'silent' });
  const store = ManagerStore.open(o.dataDir);
  const alarms = new AlarmManager({ node, store, ...(o.alarmBurst ? { burst: o.alarmBurst } : {}), ...(o.alarmsPerSecond ? { perSecond: o.alarmsPerSecond } : {}) });
  const metrics = new ManagerMetrics(node);
  const series = new TimeSeries();
  const qos = new QosTracker(o.qosWindowMs ?? 60_000);
  metrics.qosFrom(() => qos.compute());
  const accounting = new Accounting(store);
  const topology = () => km.topology;
  const xlmo = new Xlmo({ node, alarms, metrics, topology, log });
  const security = new SecurityManager({ node, alarms, metrics, zeroize: () => km.zeroize(), log, ...(o.auxPath ? { auxPath: o.auxPath } : {}), ...(o.provider ? { provider: o.provider } : {}) });
  const links = new Set(km.topology.links.filter((l) => l.ends.includes(node)).map((l) => l.id));
  const qberThreshold = o.qberThreshold ?? 0.11;
  const qlm = new Qlm({ node, alarms, metrics, series, links, thresholds: { qberAlarm: qberThreshold }, onQberAlarm: (l, q) => security.qberAlarm(l, q), onLinkSecurity: (e) => security.linkChannel(e) });
  const watch = new SupplyWatch({ node, alarms, ...o.apiOutage });
  watch.start();
  const kmlm = new Kmlm({ km, alarms, metrics, series, qos, accounting, watch, onRelayFailure: (r) => xlmo.relayFailed(r), onVoid: (e) => security.voided(e) });
  const qclm = new Qclm({ node, topology, metrics });
  xlmo.attach(qlm, qclm);
  // Security first: the tamper response must not wait behind any other subscriber. No meter on
  // the handlers: timing each one cost more (two clock reads per event) than most handlers do.
  security.start();
  qlm.start();
  kmlm.start();
  qclm.start();
  const sampler = setInterval(() => {
    for (const s of kmlm.stocks()) series.record('stock_bits', { peer: s.peer, origin: s.origin }, s.bits);
  }, 5000);
  sampler.unref();
  let app: FastifyInstance | null = null;
  let stopping: Promise<void> | null = null;
  const release = async () => {
    clearInterval(sampler);
    watch.stop();
    security.stop();
    qlm.stop();
    kmlm.stop();
    qclm.stop();
    await app?.close();
    await security.zeroized();
    alarms.close();
    await accounting.close();
    await store.close();
  };
  try {
    const structure = o.control ? { nodes: [...o.control.config.nodes], links: o.control.config.links.map((l) => ({ id: l.id, ends: [l.ends[0], l.ends[1]] as [string, string] })), saes: { ...o.control.config.saes } } : {};
    const initial: ManagedConfig = { network: { routes: routesOf(km.topology), ...structure }, alarms: { qberThreshold } };
    const own = networkViewTarget(km, () => qlm);
    const configuration = await ConfigurationManager.open(store, o.configTarget ?? (o.control ? controlTarget(o.control, own) : own), initial);
    configuration.onRefused((r) =>
      alarms.raise({ type: 'config-refused', source: 'config', text: `configuration version ${r.version} by ${r.by} was refused: ${r.reason}`.slice(0, 300), details: { version: r.version, inForce: r.inForce, rolledBack: r.rolledBack, ...(r.code ? { code: r.code } : {}) } }),
    );
    const m: Management = {
      node,
      store,
      alarms,
      metrics,
      series,
      qos,
      accounting,
      qlm,
      kmlm,
      qclm,
      xlmo,
      security,
      configuration,
      log,
      get zeroized() {
        return km.store.zeroized;
      },
      get port() {
        return app ? managementPort(app) : null;
      },
      stop: () => (stopping ??= release()),
    };
    if (o.server) app = await createManagementServer({ management: m, ...o.server, log });
    return m;
  } catch (e) {
    await release();
    throw e;
  }
}
