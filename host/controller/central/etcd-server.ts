/**
 * A real etcd (Debian's etcd-server) on loopback for tests, benchmarks and the demo: its own data
 * directory, free ports, stopped with the process that started it. `etcdBinary()` says whether
 * one is installed (tests skip with that reason only when it is not: .ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/ports.js';
import { ControllerError } from '../errors.js';

export function etcdBinary(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

export interface EtcdServer {
  readonly url: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startEtcd(timeoutMs = 30_000): Promise<EtcdServer> {
  const bin = etcdBinary();
  if (!bin) throw new ControllerError('ERR_CTL_CONFIG', 'etcd is not installed (apt-get install etcd-server)');
  const dataDir = mkdtempSync(join(tmpdir(), 'qkdn-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const p = spawn(
    bin,
    [
      '--name', 'qkdn',
      '--data-dir', join(dataDir, 'data'),
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `qkdn=${peerUrl}`,
      '--log-level', 'error',
      '--logger', 'zap',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'arm64' ? 'arm64' : '' } },
  );
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = async () => {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    if (p.exitCode !== null) {
      await stop();
      throw new ControllerError('ERR_CTL_STORE', `etcd exited with ${p.exitCode}: ${stderr}`);
    }
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new ControllerError('ERR_CTL_STORE', `etcd not healthy within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dataDir, process: p, stop };
}
