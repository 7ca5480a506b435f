/**
 * The hardware contract of the driver: a serial line opened through @serialport/bindings-cpp
 * (the binding serialport 13 uses), by path or by USB identity from the port list. The binding is
 * an option, as in serialport's stream, so another implementation of BindingInterface (another
 * OS, a network bridge) can stand in.
 */
import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
import { autoDetect, DarwinPortBinding, LinuxPortBinding } from '@serialport/bindings-cpp';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo } from '@serialport/bindings-cpp';
import { unixRead } from '@serialport/bindings-cpp/dist/unix-read.js';
import { PortBusyError, PortNotFoundError, PortOpenError } from '../errors.js';
import { modelsForUsb } from '../boards.js';

export type SerialBinding = BindingInterface;

/** How to find a board: a device path, or its USB identity in the port list. */
export type PortSelector =
  | { readonly path: string }
  | { readonly usb: { readonly vendorId: string; readonly productId: string; readonly serialNumber?: string } };

let defaultBinding: SerialBinding | undefined;
/** The platform's binding from @serialport/bindings-cpp, made to report a hung-up tty (see hangupAware). */
export function systemBinding(): SerialBinding {
  return (defaultBinding ??= hangupAware(autoDetect() as unknown as SerialBinding));
}

const readAsync = promisify(fsRead);

/**
 * bindings-cpp 13 treats a 0-byte read as "nothing yet" and reads again at once. But a Unix tty
 * whose other side is gone (USB device unplugged, pty master closed) is hung up: every read
 * returns 0 at once, forever, so the read spins on the CPU and the disconnection is never
 * reported. This wrapper makes such a read fail with code 'EOF' (marked `disconnect`, as the
 * binding marks ENXIO), which the driver and serialport streams treat as a disconnection.
 */
export function hangupAware(base: SerialBinding): SerialBinding {
  return {
    list: () => base.list(),
    async open(options: OpenOptions): Promise<BindingPortInterface> {
      const port = await base.open(options);
      if (port instanceof LinuxPortBinding || port instanceof DarwinPortBinding) {
        const binding = port;
        const fsReadAsync = (async (fd: number, buffer: Buffer, offset: number, length: number, position: number | null) => {
          const r = await readAsync(fd, buffer, offset, length, position);
          if (r.bytesRead === 0 && length > 0) throw Object.assign(new Error('end of file: the device hung up'), { code: 'EOF', disconnect: true });
          return r;
        }) as unknown as typeof readAsync;
        port.read = async (buffer: Buffer, offset: number, length: number) => {
          if (!binding.isOpen) throw Object.assign(new Error('Port is not open'), { canceled: true });
          return unixRead({ binding, buffer, offset, length, fsReadAsync });
        };
      }
      return port;
    },
  } as SerialBinding;
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
