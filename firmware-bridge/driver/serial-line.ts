/**
 * The hardware contract of the driver: a serial line opened through @serialport/bindings-cpp
 * (the binding serialport 13 uses), by path or by USB identity from the port list. The binding is
 * an option, as in serialport's stream, so another implementation of BindingInterface (another
 * OS, a network bridge) can stand in.
 */
import { readSync, writeSync } from 'node:fs';
import { autoDetect, DarwinPortBinding, LinuxPortBinding } from '@serialport/bindings-cpp';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo } from '@serialport/bindings-cpp';
// The poller's event flags (libuv's UV_READABLE, UV_WRITABLE), as the binding defines them.
import { EVENTS } from '@serialport/bindings-cpp/dist/poller.js';
import { PortBusyError, PortNotFoundError, PortOpenError } from '../errors.js';
import { modelsForUsb } from '../boards.js';

export type SerialBinding = BindingInterface;

/** How to find a board: a device path, or its USB identity in the port list. */
export type PortSelector =
  | { readonly path: string }
  | { readonly usb: { readonly vendorId: string; readonly productId: string; readonly serialNumber?: string } };

let defaultBinding: SerialBinding | undefined;
/** The platform's binding from @serialport/bindings-cpp, with faster I/O that reports a hung-up tty (see hangupAware). */
export function systemBinding(): SerialBinding {
  return (defaultBinding ??= hangupAware(autoDetect() as unknown as SerialBinding));
}

/** Errors of read(2)/write(2) that mean "not now": wait for the poller. */
const NOT_NOW = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
/** Errors that mean the device is gone, as bindings-cpp classifies them (plus EIO, a hung-up tty's write). */
const GONE = new Set(['EBADF', 'ENXIO', 'EIO', 'UNKNOWN']);

function disconnectError(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException & { disconnect?: boolean };
  if (err && (GONE.has(err.code ?? '') || err.errno === -1)) err.disconnect = true;
  return err;
}

function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

type PollerPort = LinuxPortBinding | DarwinPortBinding;
const { UV_READABLE, UV_WRITABLE } = EVENTS;


/**
 * Wraps the platform binding of @serialport/bindings-cpp for two reasons:
 *
 * - Speed. The binding reads and writes through fs.read/fs.write, one libuv threadpool round
 *   trip per call: at tens of MB/s (about 10 k reads of at most 4 KiB a second, as a tty
 *   delivers them) those hops cost more CPU than decoding the data. The descriptor is
 *   non-blocking, so here reads and writes are readSync/writeSync on the main thread, and the
 *   binding's poller (epoll) says when to try again after EAGAIN.
 * - Hang-up. bindings-cpp 13 treats a 0-byte read as "nothing yet" and reads again at once. But
 *   a Unix tty whose other side is gone (USB device unplugged, pty master closed) is hung up:
 *   every read returns 0 at once, forever, so the read spins on the CPU and the disconnection is
 *   never reported. Here such a read fails with code 'EOF' (marked `disconnect`, as the binding
 *   marks ENXIO), which the driver and serialport streams treat as a disconnection.
 *
 * Opening, configuring, flushing and closing stay the binding's.
 */
export function hangupAware(base: SerialBinding): SerialBinding {
  return {
    list: () => base.list(),
    async open(options: OpenOptions): Promise<BindingPortInterface> {
      const port = await base.open(options);
      if (port instanceof LinuxPortBinding || port instanceof DarwinPortBinding) pollerIo(port);
      return port;
    },
  } as SerialBinding;
}

/** Replaces read and write of a poller-based port with synchronous non-blocking calls. */
function pollerIo(port: PollerPort): void {
  // After a read that ended in EAGAIN the next one waits for the poller first: a read that is
  // bound to fail costs a thrown exception, a poll that finds data waiting costs one loop turn.
  let drained = false;
  // The binding's poller restarts its epoll watch with only the event asked last, so a read
  // waiting for data would drop a write's wait for room (and the other way round) until some
  // event fires: ask for every event someone waits for.
  let awaited = 0;
  const whenPolled = (event: 'readable' | 'writable'): Promise<void> => {
    const flag = event === 'readable' ? UV_READABLE : UV_WRITABLE;
    awaited |= flag;
    return new Promise((resolve, reject) => {
      port.poller.once(event, (err: Error | null) => {
        awaited &= ~flag;
        if (err) reject(err);
        else resolve();
      });
      if (awaited !== flag) port.poller.poll(awaited);
    });
  };
  port.read = async (buffer: Buffer, offset: number, length: number) => {
    // A hung-up tty polls as an error (libuv reports POLLERR as EBADF): the read after it says what happened.
    let pollError: (Error & { disconnect?: boolean }) | undefined;
    for (;;) {
      if (!port.isOpen || port.fd === null) throw canceled();
      if (!drained) {
        let got = 0;
        try {
          // A tty hands over at most its line-discipline buffer (4 KiB) per read: take what is
          // there now, up to the caller's buffer, in one go.
          while (got < length) {
            const n = readSync(port.fd, buffer, offset + got, length - got, null);
            if (n === 0) {
              if (got > 0) break; // the next read reports the hang-up
              throw Object.assign(new Error('end of file: the device hung up'), { code: 'EOF', disconnect: true });
            }
            got += n;
          }
        } catch (e) {
          if (!NOT_NOW.has((e as NodeJS.ErrnoException).code ?? '')) throw disconnectError(e);
          if (got === 0 && pollError) throw Object.assign(pollError, { disconnect: true });
          drained = true;
        }
        if (got > 0) return { bytesRead: got, buffer };
      }
      try {
        await whenPolled('readable');
      } catch (e) {
        if ((e as { canceled?: boolean }).canceled) throw e;
        if (pollError) throw Object.assign(e as Error, { disconnect: true });
        pollError = e as Error;
      }
      drained = false;
    }
  };
  port.write = async (buffer: Buffer) => {
    if (!port.isOpen) throw canceled();
    let offset = 0;
    while (offset < buffer.length) {
      if (!port.isOpen || port.fd === null) throw canceled();
      try {
        offset += writeSync(port.fd, buffer, offset, buffer.length - offset);
      } catch (e) {
        if (!NOT_NOW.has((e as NodeJS.ErrnoException).code ?? '')) throw disconnectError(e);
        await whenPolled('writable').catch((p: Error & { canceled?: boolean }) => {
          throw p.canceled ? p : Object.assign(p, { disconnect: true });
        });
      }
    }
  };
}

/** Resolves a selector to a device path (the port list needs udevadm on Linux). */
export async function resolvePort(selector: PortSelector, binding: SerialBinding = systemBinding()): Promise<string> {
  if ('path' in selector) return selector.path;
  const want = selector.usb;
  const ports: PortInfo[] = await binding.list();
  const hit = ports.find(
    (p) =>
      p.vendorId?.toLowerCase() === want.vendorId.toLowerCase() &&
      p.productId?.toLowerCase() === want.productId.toLowerCase() &&
      (want.serialNumber === undefined || p.serialNumber === want.serialNumber),
  );
  if (!hit) {
    throw new PortNotFoundError(
      `USB ${want.vendorId}:${want.productId}${want.serialNumber ? ` serial ${want.serialNumber}` : ''}`,
      ports.map((p) => `${p.path}${p.vendorId ? ` (${p.vendorId}:${p.productId}${p.serialNumber ? ` ${p.serialNumber}` : ''})` : ''}`),
    );
  }
  return hit.path;
}

/** Ports in the list whose USB identity belongs to a known board model. */
export async function listBoards(binding: SerialBinding = systemBinding()): Promise<Array<{ path: string; serialNumber?: string; models: string[] }>> {
  const ports = await binding.list();
  return ports
    .map((p) => ({ path: p.path, ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}), models: modelsForUsb(p.vendorId, p.productId).map((m) => m.model) }))
    .filter((p) => p.models.length > 0);
}

export async function openLine(path: string, binding: SerialBinding = systemBinding()): Promise<BindingPortInterface> {
  // The baud rate matters to a real UART bridge (CP2102N runs at 3 Mbaud); USB CDC-ACM and ptys ignore it.
  let port: BindingPortInterface;
  try {
    port = await binding.open({ path, baudRate: 3_000_000, dataBits: 8, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, hupcl: false });
  } catch (e) {
    throw /lock/i.test(e instanceof Error ? e.message : '') ? new PortBusyError(path, e) : new PortOpenError(path, e);
  }
  // Bytes left from before we opened (a board streaming to nobody) are not ours to decode.
  await port.flush();
  return port;
}
