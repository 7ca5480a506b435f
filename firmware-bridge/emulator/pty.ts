/**
 * Pseudo-terminals for emulated boards. The emulator holds the master side (as a board holds its
 * end of the USB cable) and the host opens the slave path with serialport, exactly as it opens
 * /dev/ttyUSB0. Node can open /dev/ptmx but cannot unlock it (no ioctl), so a one-shot python3
 * helper, handed the master descriptor, calls grantpt/unlockpt/ptsname, puts the slave in raw
 * mode and exits. No relay process sits in the data path (socat pairs were seen to deadlock
 * under unbounded writes and to keep stale bytes between runs; a fresh pty per board avoids both).
 */
import { closeSync, constants, openSync, rmSync, symlinkSync, renameSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { PtyError } from '../errors.js';

const UNLOCK = `
import ctypes, os, sys, tty
libc = ctypes.CDLL(None, use_errno=True)
libc.ptsname.restype = ctypes.c_char_p
if libc.grantpt(3) != 0 or libc.unlockpt(3) != 0:
    sys.exit('unlockpt: ' + os.strerror(ctypes.get_errno()))
name = libc.ptsname(3).decode()
fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
os.close(fd)
sys.stdout.write(name)
`;

export interface Pty {
  /** Master descriptor, owned by the caller. */
  readonly master: number;
  /** Slave device path, e.g. /dev/pts/7. */
  readonly slavePath: string;
  /**
   * A descriptor on the slave held open by the board side, so the master does not read EIO
   * whenever the host has the port closed (a board stays plugged in while no host listens).
   */
  readonly slaveHold: number;
}

export function openPty(): Pty {
  let master = -1;
  try {
    // Non-blocking: a write to a master whose host stopped reading must fail with EAGAIN, never
    // block the board's event loop (the deadlock seen with socat pairs).
    master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    const slavePath = execFileSync('python3', ['-c', UNLOCK], { stdio: ['ignore', 'pipe', 'pipe', master], timeout: 10_000 }).toString().trim();
    if (!slavePath.startsWith('/dev/')) throw new PtyError(`python3 pty helper returned ${JSON.stringify(slavePath)}`);
    const slaveHold = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    return { master, slavePath, slaveHold };
  } catch (e) {
    if (master >= 0) closeSync(master);
    if (e instanceof PtyError) throw e;
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = err.code === 'ENOENT' ? 'python3 not found (install python3-minimal)' : (err.stderr?.toString().trim() || err.message);
    throw new PtyError(`cannot create a pseudo-terminal: ${why}`, e);
  }
}

/** Points `link` at `target` atomically (a stable name across disconnect and reappear, like /dev/serial/by-id). */
export function pointLink(link: string, target: string): void {
  const tmp = join(dirname(link), `.${process.pid}.${Date.now()}.tmp`);
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

export function removeLink(link: string): void {
  rmSync(link, { force: true });
}
