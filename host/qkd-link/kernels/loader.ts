/**
 * Loads the AssemblyScript kernels built by assembly/build.mjs. Each kernel is built twice, with
 * and without WASM SIMD, behind one API; the SIMD build is used when this engine validates it.
 * Modules are compiled once per process (synchronously: they are small, and worker threads need
 * them at start-up) and instantiated per caller, so each instance owns its linear memory.
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KernelNotBuiltError, KernelTrapError, KernelMemoryError } from './errors.js';

export type KernelTarget = 'release' | 'release-simd' | 'debug';

export interface KernelInstance<E> {
  readonly name: string;
  readonly target: KernelTarget;
  readonly exports: E;
  readonly memory: WebAssembly.Memory;
}

export interface LoadOptions {
  /** 'auto' (default) picks release-simd when the engine validates it. */
  readonly target?: KernelTarget | 'auto';
}

const wasmDir = fileURLToPath(new URL('../../../build/wasm/', import.meta.url));
const modules = new Map<string, WebAssembly.Module>();
const bytesCache = new Map<string, Uint8Array>();

function readWasm(name: string, target: KernelTarget): Uint8Array {
  const path = `${wasmDir}${name}.${target}.wasm`;
  let bytes = bytesCache.get(path);
  if (!bytes) {
    if (!existsSync(path)) throw new KernelNotBuiltError(path);
    bytes = readFileSync(path);
    bytesCache.set(path, bytes);
  }
  return bytes;
}

/** True when this engine accepts the kernel's SIMD build. */
export function simdSupported(name: string): boolean {
  return WebAssembly.validate(readWasm(name, 'release-simd'));
}

function resolveTarget(name: string, target: KernelTarget | 'auto'): KernelTarget {
  if (target !== 'auto') return target;
  const env = process.env.QKDN_KERNEL_TARGET;
  if (env === 'release' || env === 'release-simd' || env === 'debug') return env;
  return simdSupported(name) ? 'release-simd' : 'release';
}

/** Reads an AssemblyScript string (UTF-16, byte length stored 4 bytes before it). */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0 || ptr < 4 || ptr > memory.buffer.byteLength) return '';
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] ?? 0;
  if (ptr + len > memory.buffer.byteLength) return '';
  return Buffer.from(memory.buffer, ptr, len).toString('utf16le');
}

export function loadKernel<E extends object>(name: string, options: LoadOptions = {}): KernelInstance<E> {
  const target = resolveTarget(name, options.target ?? 'auto');
  const key = `${name}.${target}`;
  let module = modules.get(key);
  if (!module) {
    module = new WebAssembly.Module(readWasm(name, target));
    modules.set(key, module);
  }
  // abort() needs the memory, which exists only once the instance does.
  const ref: { memory?: WebAssembly.Memory } = {};
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        const m = ref.memory ? readAsString(ref.memory, message) : '';
        const f = ref.memory ? readAsString(ref.memory, file) : '';
        throw new KernelTrapError(name, `${m || 'abort'} at ${f || '?'}:${line}:${column}`);
      },
      seed(): number {
        return Date.now() * Math.random();
      },
    },
  };
  const instance = new WebAssembly.Instance(module, imports);
  const memory = instance.exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new KernelTrapError(name, 'module exports no memory');
  ref.memory = memory;
  return { name, target, exports: instance.exports as unknown as E, memory };
}

/** Runs a kernel call, turning engine traps into typed errors. */
export function guard<T>(kernel: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw new KernelTrapError(kernel, err.message, err);
    throw err;
  }
}

/** Grows linear memory so that it holds at least `bytes` bytes. */
export function ensureMemory(instance: KernelInstance<object>, bytes: number): void {
  const have = instance.memory.buffer.byteLength;
  if (bytes <= have) return;
  const pages = Math.ceil((bytes - have) / 65536);
  try {
    instance.memory.grow(pages);
  } catch {
    throw new KernelMemoryError(instance.name, bytes);
  }
}

/**
 * Typed-array views of a kernel's memory, made once and remade only when the memory grows
 * (growing detaches the old ArrayBuffer).
 */
export class MemoryViews {
  private buffer: ArrayBuffer | undefined;
  private views: { u8: Uint8Array; u16: Uint16Array; u32: Uint32Array; i32: Int32Array; f64: Float64Array } | undefined;
  constructor(private readonly memory: WebAssembly.Memory) {}
  private get all() {
    const buffer = this.memory.buffer;
    if (buffer !== this.buffer || !this.views) {
      this.buffer = buffer;
      this.views = {
        u8: new Uint8Array(buffer),
        u16: new Uint16Array(buffer),
        u32: new Uint32Array(buffer),
        i32: new Int32Array(buffer),
        f64: new Float64Array(buffer),
      };
    }
    return this.views;
  }
  get u8(): Uint8Array { return this.all.u8; }
  get u16(): Uint16Array { return this.all.u16; }
  get u32(): Uint32Array { return this.all.u32; }
  get i32(): Int32Array { return this.all.i32; }
  get f64(): Float64Array { return this.all.f64; }
}
