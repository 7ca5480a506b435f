/**
 * The node's management layer, set up in one place: the managers (host/manager), the management
 * API and /metrics when the configuration gives a management port, and the aux I/O board whose
 * tamper switch the security manager watches. The aux board is opened after the managers, so
 * an enclosure found open at start-up is a tamper too.
 */
import type { Logger } from 'pino';
import { AuxIo } from '../../firmware-bridge/aux/aux-io.js';
import type { KeyManager } from '../km/key-manager.js';
import type { ConfigurationControlPort } from '../manager/control-target.js';
import { startManagement, type Management } from '../manager/management.js';
import type { NodeConfig } from './config.js';

export interface NodeManagement {
  readonly management: Management | null;
  readonly aux: AuxIo | null;
  stop(): Promise<void>;
}

/**
 * `control`: the node's controller's configuration control (its ConfigurationControl), when the
 * node runs one: configuration versions are then applied through it (host/manager/control-target.ts).
 */
export async function startNodeManagement(c: NodeConfig, km: KeyManager, tls: { ca: string; cert: string; key: string }, log: Logger, control?: ConfigurationControlPort, provider?: string): Promise<NodeManagement> {
  const mc = c.management ?? {};
  if (mc.enabled === false) return { management: null, aux: null, stop: async () => {} };
  const management = await startManagement({
    km,
    dataDir: c.dataDir,
    log,
    ...(control ? { control } : {}),
    ...(provider ? { provider } : {}),
    ...(c.aux ? { auxPath: c.aux.port } : {}),
    ...(mc.qberThreshold !== undefined ? { qberThreshold: mc.qberThreshold } : {}),
    ...(mc.alarmBurst !== undefined ? { alarmBurst: mc.alarmBurst } : {}),
    ...(mc.alarmsPerSecond !== undefined ? { alarmsPerSecond: mc.alarmsPerSecond } : {}),
    ...(mc.qosWindowMs !== undefined ? { qosWindowMs: mc.qosWindowMs } : {}),
    apiOutage: { ...(mc.apiOutageRatio !== undefined ? { ratio: mc.apiOutageRatio } : {}), ...(mc.apiOutageMinRequests !== undefined ? { minRequests: mc.apiOutageMinRequests } : {}), ...(mc.apiOutageWindowMs !== undefined ? { windowMs: mc.apiOutageWindowMs } : {}) },
    ...(mc.host !== undefined && mc.port !== undefined ? { server: { host: mc.host, port: mc.port, tls } } : {}),
  });
  let aux: AuxIo | null = null;
  if (c.aux) {
    try {
      aux = await AuxIo.open({ path: c.aux.port, ...(c.aux.model ? { model: c.aux.model } : {}), ...(c.aux.temperatureIntervalMs ? { temperatureIntervalMs: c.aux.temperatureIntervalMs } : {}) });
      aux.on('disconnect', (e) => management.alarms.raise({ type: 'aux-disconnected', source: 'aux', text: `the aux I/O board disconnected: ${e.message}`.slice(0, 300) }));
    } catch (e) {
      // A node whose tamper switch cannot be read still serves, under a standing alarm.
      management.alarms.raise({ type: 'aux-disconnected', source: 'aux', text: `the aux I/O board cannot be opened: ${(e as Error).message}`.slice(0, 300) });
    }
  }
  return {
    management,
    aux,
    stop: async () => {
      await aux?.close();
      await management.stop();
    },
  };
}
