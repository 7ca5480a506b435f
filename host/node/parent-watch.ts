/**
 * A node started from a command line stops when the command that started it is gone. Run through
 * `npx qkdn-edge node`, the node is a grandchild of `npm exec` (npm exec → sh → node): `kill %1`
 * ends npm exec, the shell in between may live on, and without this the node would keep its
 * ports and data directory with no one left to stop it. So the node watches every ancestor it had
 * at start (up to, not including, init or the nearest subreaper, which outlive everything) and
 * stops when one of them ends. Linux reads the ancestry from /proc; elsewhere only the parent is
 * watched (its end shows as a change of `process.ppid`).
 */
import { readFileSync } from 'node:fs';

interface Ancestor {
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat): tells a reused PID apart. */
  readonly start: string;
}

/** `[state, ppid, starttime]` of a process, or null when it is gone (or a zombie). */
function stat(pid: number): { ppid: number; start: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return { ppid: Number(fields[1]), start: fields[19] ?? '' };
}

/** The ancestors of this process, nearest first, without init. */
export function ancestors(): Ancestor[] {
  const out: Ancestor[] = [];
  let pid = process.ppid;
  for (let depth = 0; pid > 1 && depth < 64; depth++) {
    const s = stat(pid);
    if (!s) break;
    out.push({ pid, start: s.start });
    pid = s.ppid;
  }
  return out;
}

/**
 * Takes the ancestry now (call it first thing: an ancestor that ends before this call cannot be
 * told from one that never was) and returns `watch(onGone)`, which calls `onGone` once an
 * ancestor has ended (at once if one already has) and returns the function that stops watching.
 */
export function ancestorWatch(everyMs = 500): (onGone: (pid: number) => void) => () => void {
  const linux = stat(process.pid) !== null;
  const watched = linux ? ancestors() : [];
  const parent = process.ppid;
  const gone = () => (linux ? watched.find((a) => stat(a.pid)?.start !== a.start)?.pid : process.ppid !== parent ? parent : undefined);
  return (onGone) => {
    const check = () => {
      const pid = gone();
      if (pid === undefined) return false;
      clearInterval(timer);
      onGone(pid);
      return true;
    };
    const timer = setInterval(check, everyMs);
    timer.unref();
    check();
    return () => clearInterval(timer);
  };
}
