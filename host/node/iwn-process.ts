/**
 * What the two interworking roles of `qkdn-edge node` share as processes (`role: interworking`,
 * iwn.ts; `role: interworking-controller`, iwn-controller.ts): reading the configuration file and
 * its role, and the life of the process: print the IWFs' events as `{"event":"iwn",...}` lines and
 * `{"event":"ready",...}` once serving, run until SIGTERM or SIGINT (or the end of stdin with
 * QKDN_NODE_EXIT_WITH_STDIN=1), then stop and print `{"event":"stopped",...}`.
 */
import { readFileSync } from 'node:fs';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { parse as parseYaml } from 'yaml';
import { KmConfigError } from '../km/errors.js';
import { IWN_CHANNEL } from '../interworking/iwn/diagnostics.js';
import { onStopRequest } from './stop-request.js';

/** The parsed YAML of a configuration file; a KmConfigError naming the file if it cannot be read. */
export function readYamlConfig(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new KmConfigError(path, `cannot read: ${String((e as Error).message).split('\n')[0]}`);
  }
}

/** The `role` a configuration file declares, if it can be read. */
export function configRole(path: string): unknown {
  try {
    const raw = parseYaml(readFileSync(path, 'utf8')) as unknown;
    return typeof raw === 'object' && raw !== null ? (raw as { role?: unknown }).role : undefined;
  } catch {
    return undefined;
  }
}

function line(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

export interface IwnProcess<C, R extends { stop(): Promise<void> }> {
  readonly load: () => C;
  readonly node: (c: C) => string;
  readonly start: (c: C) => Promise<R>;
  /** The fields of the ready line beyond its event and node. */
  readonly ready: (c: C, r: R) => Record<string, unknown>;
  /** A chunk read from stdin (an operator's or a test's command). */
  readonly stdin?: (r: R, data: Buffer) => void;
}

/** Runs an interworking process to its end; the exit code (2: bad configuration, 1: failed to start). */
export async function runIwnProcess<C, R extends { stop(): Promise<void> }>(p: IwnProcess<C, R>): Promise<number> {
  let c: C;
  try {
    c = p.load();
  } catch (e) {
    process.stderr.write(`qkdn-edge node: ${(e as Error).message}\n`);
    return 2;
  }
  const print = (m: unknown) => line({ event: 'iwn', ...(m as Record<string, unknown>) });
  subscribe(IWN_CHANNEL, print);
  let r: R;
  try {
    r = await p.start(c);
  } catch (e) {
    process.stderr.write(`qkdn-edge node ${p.node(c)}: ${(e as Error).message}\n`);
    unsubscribe(IWN_CHANNEL, print);
    return 1;
  }
  line({ event: 'ready', node: p.node(c), pid: process.pid, ...p.ready(c, r) });
  await new Promise<void>((resolve) => {
    onStopRequest(resolve);
    const onData = p.stdin;
    if (onData) process.stdin.on('data', (d: Buffer) => onData(r, d));
  });
  process.stdin.pause();
  process.stdin.destroy();
  await r.stop();
  unsubscribe(IWN_CHANNEL, print);
  line({ event: 'stopped', node: p.node(c) });
  return 0;
}
