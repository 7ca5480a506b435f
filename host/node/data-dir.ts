/**
 * Whether a data directory can hold a key store, decided before anything is created: the
 * directory itself or, when it does not exist yet, its nearest existing parent must be on a
 * file system meant for storage. On the kernel's pseudo file systems (/proc, /sys, ...) creating
 * it fails in odd ways; under /proc Node's recursive mkdir even loops with a core busy.
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** statfs f_type of the kernel's pseudo file systems (linux/magic.h). */
const PSEUDO: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
  [0x63677270, 'cgroup2'],
  [0x27e0eb, 'cgroup'],
  [0x74726163, 'tracefs'],
  [0xcafe4a11, 'bpf'],
]);

/** What is wrong with `dir` as a data directory (an absolute path), or null. */
export function dataDirProblem(dir: string): string | null {
  let p = dir;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  let type: number;
  try {
    type = Number(statfsSync(p).type);
  } catch (e) {
    return `cannot inspect ${p}: ${(e as Error).message}`;
  }
  const fs = PSEUDO.get(type);
  return fs ? `${p} is on the kernel's ${fs} file system, not storage: choose a directory on a disk` : null;
}
