/**
 * CPU time from Linux's /proc: what the link's benchmarks and worker pools report. A thread's or
 * process's stat line gives utime and stime in clock ticks (USER_HZ, 100 on Linux).
 */
import { openSync, readFileSync, readSync } from 'node:fs';

/** utime + stime of a /proc stat line, in seconds. */
export function statCpuSeconds(stat: string): number {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * CPU seconds of a process (all its threads), or of one of its threads; NaN where there is no
 * /proc (a benchmark then reports the figure as unknown, not as zero).
 */
export function processCpuSeconds(pid: number, task?: number): number {
  try {
    return statCpuSeconds(readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, 'latin1'));
  } catch {
    return Number.NaN;
  }
}

/**
 * The calling thread's CPU seconds, read again on each call from a stat file opened once (open,
 * fstat and close per read would cost more than the read); undefined where there is no /proc.
 */
export function threadCpuReader(): () => number | undefined {
  let fd: number | null | undefined;
  const buf = Buffer.alloc(1024);
  return () => {
    try {
      fd ??= openSync('/proc/thread-self/stat', 'r');
      if (fd === null) return undefined;
      return statCpuSeconds(buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)));
    } catch {
      fd = null;
      return undefined;
    }
  };
}
