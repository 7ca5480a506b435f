/**
 * When a node process (`qkdn-edge node`, any role) is asked to stop: SIGTERM, SIGINT, or, under a
 * supervisor that holds its stdin (QKDN_NODE_EXIT_WITH_STDIN=1: tests, the demo network), the end
 * of stdin, which means the supervisor is gone: the process stops rather than outlive it.
 */
export function onStopRequest(stop: () => void): void {
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (process.env.QKDN_NODE_EXIT_WITH_STDIN === '1') {
    process.stdin.once('end', stop);
    process.stdin.once('close', stop);
    process.stdin.resume();
  }
}
