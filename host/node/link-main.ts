/**
 * Entry of a standalone link module process:
 *
 *   node --import tsx host/node/link-main.ts <config.yaml>
 *
 * One JSON line per event on stdout ({"event": "block" | "state" | "security" | "ready" |
 * "stopped" | "fatal", ...}). SIGTERM or SIGINT stops the module cleanly and exits 0; a fatal
 * error exits 1 after printing it.
 */
import { availableParallelism } from 'node:os';
import { linkStoreOpener } from '../km/link-store.js';
import { loadLinkConfig } from '../qkd-link/module/config.js';
import { startLinkEnd, type RunningLink } from '../qkd-link/module/link-process.js';

function emit(event: string, body: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...body })}\n`);
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: link-main.ts <config.yaml>\n');
    process.exit(2);
  }
  const config = loadLinkConfig(path, Math.max(1, availableParallelism() - 1));
  const held: { running?: RunningLink } = {};
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void (held.running?.close() ?? Promise.resolve()).then(
      () => {
        emit('stopped', { nextUnit: held.running?.module.nextUnit ?? 0 });
        process.exit(0);
      },
      (e: Error) => {
        emit('fatal', { message: e.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const running = await startLinkEnd(config, linkStoreOpener, (kind, e) => emit(kind, e));
  held.running = running;
  emit('ready', { role: config.role, port: running.module.port, nextUnit: running.module.nextUnit, pid: process.pid });
  if (stopping) stop();
}

main().catch((e: Error & { code?: string }) => {
  emit('fatal', { code: e.code ?? 'ERR_LINK', message: e.message });
  process.exit(1);
});
