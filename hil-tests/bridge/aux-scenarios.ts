/**
 * Aux I/O scenarios (tamper switch, temperatures, interlock relay, status LED) through
 * johnny-five over Firmata: on the emulated Firmata board always, on a real one when QKD_AUX
 * names its port (scenarios that must flip the lid or read the relay back need the emulator).
 */
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { AuxEmulator } from '../../firmware-bridge/aux/aux-emulator.js';
import { AuxIo, type TamperEvent, type TemperatureReading } from '../../firmware-bridge/aux/aux-io.js';
import type { FirmataBoardState } from '../../firmware-bridge/aux/firmata-board.js';
import type { BridgeError } from '../../firmware-bridge/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AuxSetup {
  readonly path: string;
  readonly emulator?: AuxEmulator;
  close(): Promise<void>;
}
export type AuxFactory = () => Promise<AuxSetup>;

export const auxEmulatorFactory: AuxFactory = async () => {
  const em = await AuxEmulator.start();
  return { path: em.path, emulator: em, close: () => em.close() };
};

export function auxHardwareFactory(env: NodeJS.ProcessEnv = process.env): AuxFactory | { readonly missing: string } {
  const path = env.QKD_AUX;
  if (!path) return { missing: 'QKD_AUX (the aux Firmata board device path)' };
  return async () => ({ path, close: async () => {} });
}

export interface AuxScenario {
  readonly name: string;
  readonly needs?: 'emulator';
  run(factory: AuxFactory): Promise<void>;
}

async function withAux(factory: AuxFactory, fn: (aux: AuxIo, setup: AuxSetup) => Promise<void>): Promise<void> {
  const setup = await factory();
  let aux: AuxIo | undefined;
  try {
    aux = await AuxIo.open({ path: setup.path, temperatureIntervalMs: 50 });
    await fn(aux, setup);
  } finally {
    await aux?.close();
    await setup.close();
  }
}

async function until<T>(get: () => T | undefined, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) assert.unreachable(`${what}: nothing after ${ms} ms`);
    await sleep(5);
  }
}

export const auxScenarios: AuxScenario[] = [
  {
    name: 'aux board ready through johnny-five on serialport 13 alone, temperatures read',
    async run(factory) {
      const t0 = Date.now();
      await withAux(factory, async (aux) => {
        // Below the 5 s timeout itself (a handshake that waited it out takes longer), not a speed test:
        // under load the spawn and handshake took over 3 s when three suites ran at once.
        assert.ok(Date.now() - t0 < 5000, 'Firmata handshake does not wait out the 5 s version timeout');
        assert.ok(aux.firmware.length > 0, 'firmware name reported');
        const t = await until(() => {
          const x = aux.temperatures();
          return x.detector && x.enclosure ? x : undefined;
        }, 2000, 'temperatures');
        assert.ok(t.detector!.celsius > -80 && t.detector!.celsius < 40);
        assert.ok(t.enclosure!.celsius > -20 && t.enclosure!.celsius < 80);
        // One serial binding in the process: johnny-five's own serialport 8 never loaded.
        const loaded = Object.keys(createRequire(import.meta.url).cache);
        assert.not.ok(loaded.some((p) => p.includes('/johnny-five/node_modules/serialport/') || p.includes('/@serialport/bindings/')), 'serialport 8 is not loaded');
        assert.ok(loaded.some((p) => p.includes('/@serialport/bindings-cpp/')), 'bindings-cpp 13 carries the port');
      });
    },
  },
  {
    name: 'tamper: opening the enclosure reaches the host as a typed event within 100 ms, and closing it too',
    needs: 'emulator',
    async run(factory) {
      await withAux(factory, async (aux, setup) => {
        const em = setup.emulator!;
        const events: TamperEvent[] = [];
        aux.on('tamper', (e) => events.push(e));
        await until(() => (aux.tampered === undefined ? undefined : true), 2000, 'first lid report');
        assert.is(aux.tampered, false);
        const latencies: number[] = [];
        for (let i = 0; i < 5; i++) {
          const n = events.length;
          const at = await em.setLid(i % 2 === 0);
          const e = await until(() => events[n], 1000, 'tamper event');
          latencies.push(e.at - at);
          assert.is(e.kind, 'tamper');
          assert.is(e.state, i % 2 === 0 ? 'open' : 'closed');
        }
        for (const l of latencies) assert.ok(l <= 100, `tamper latency ${l} ms (all: ${latencies.join(', ')})`);
        assert.is(aux.tampered, true);
      });
    },
  },
  {
    name: 'laser interlock relay and status LED follow the host; out-of-range temperatures are flagged',
    needs: 'emulator',
    async run(factory) {
      await withAux(factory, async (aux, setup) => {
        const em = setup.emulator!;
        const outputs: FirmataBoardState[] = [];
        em.onOutputs = (s) => outputs.push(s);
        aux.setInterlock(true);
        await until(() => (outputs.some((o) => o.interlockClosed) ? true : undefined), 1000, 'relay closed');
        aux.setStatusLed('on');
        await until(() => (outputs.some((o) => o.ledOn) ? true : undefined), 1000, 'LED on');
        aux.setInterlock(false);
        aux.setStatusLed('off');
        await sleep(100);
        const s = await em.state();
        assert.is(s.interlockClosed, false);
        assert.is(s.ledOn, false);
        const hot: TemperatureReading[] = [];
        aux.on('temperature', (r) => r.sensor === 'detector' && r.outOfRange && hot.push(r));
        await em.setTemperatures({ detectorC: -20 });
        const r = await until(() => hot[0], 1000, 'out-of-range reading');
        assert.ok(Math.abs(r.celsius + 20) < 0.5, `read ${r.celsius} C for -20 C`);
      });
    },
  },
  {
    name: 'an unplugged aux board is reported as a disconnect event, not read forever',
    needs: 'emulator',
    async run(factory) {
      await withAux(factory, async (aux, setup) => {
        const gone: BridgeError[] = [];
        aux.on('disconnect', (e) => gone.push(e));
        const cpu0 = process.cpuUsage();
        const t0 = Date.now();
        await setup.emulator!.unplug();
        const e = await until(() => gone[0], 2000, 'disconnect event');
        assert.is(e.code, 'ERR_BRIDGE_DISCONNECTED');
        assert.ok(Date.now() - t0 < 1000, `disconnect seen after ${Date.now() - t0} ms`);
        await sleep(200);
        const cpu = process.cpuUsage(cpu0);
        // A read loop spinning on the hung-up tty would burn a whole core here.
        assert.ok((cpu.user + cpu.system) / 1000 < 0.8 * (Date.now() - t0), `host CPU ${(cpu.user + cpu.system) / 1000} ms in ${Date.now() - t0} ms`);
      });
    },
  },
];
