/**
 * Loopback ports for the nodes of a demo, test or bench network started on one machine. Taken
 * below the kernel's ephemeral range (net.ipv4.ip_local_port_range), so no outgoing connection can
 * be given one as its source port while a node is down between restarts (the EADDRINUSE a port
 * from that range once gave), and never the same port twice in a process.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The kernel's range for outgoing connections' ports (net.ipv4.ip_local_port_range). */
export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux: the usual default
  }
  return [32768, 60999];
}

const EPHEMERAL_RANGE = ephemeralRange();
/** Lowest port handed out: above the well-known and most registered services' ports. */
export const LOWEST_PORT = 10_000;
const handedOut = new Set<number>();

/**
 * A free TCP port on loopback. `ephemeral` is the kernel's range (read once from /proc); when
 * fewer than 1000 ports lie between LOWEST_PORT and its start, the kernel chooses instead.
 */
export async function freePort(ephemeral: readonly [number, number] = EPHEMERAL_RANGE): Promise<number> {
  const [low] = ephemeral;
  for (let attempt = 0; attempt < 200 && low - LOWEST_PORT > 1000; attempt++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (low - LOWEST_PORT));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  // No room below the ephemeral range: let the kernel choose (never one handed out already).
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
