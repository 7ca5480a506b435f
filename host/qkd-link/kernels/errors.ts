/**
 * Typed errors of the WASM kernel wrappers. Every wrapper validates its arguments before entering
 * WASM and throws KernelArgumentError naming the offending value; anything that still traps inside
 * a kernel surfaces as KernelTrapError, never as a bare WebAssembly.RuntimeError.
 */
export type KernelErrorCode =
  | 'ERR_KERNEL_ARGUMENT'
  | 'ERR_KERNEL_TRAP'
  | 'ERR_KERNEL_NOT_BUILT'
  | 'ERR_KERNEL_MEMORY';

export class KernelError extends Error {
  readonly code: KernelErrorCode;
  constructor(code: KernelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A size, length, seed or parameter that the kernel cannot accept. */
export class KernelArgumentError extends KernelError {
  readonly argument: string;
  readonly value: unknown;
  constructor(argument: string, value: unknown, expected: string) {
    super('ERR_KERNEL_ARGUMENT', `${argument} = ${describe(value)}: expected ${expected}`);
    this.argument = argument;
    this.value = value;
  }
}

/** The kernel aborted (an AssemblyScript abort or a WebAssembly trap). */
export class KernelTrapError extends KernelError {
  readonly kernel: string;
  constructor(kernel: string, message: string, cause?: unknown) {
    super('ERR_KERNEL_TRAP', `kernel ${kernel} trapped: ${message}`, { cause });
    this.kernel = kernel;
  }
}

/** The .wasm file is missing: the AssemblyScript build has not run. */
export class KernelNotBuiltError extends KernelError {
  constructor(path: string) {
    super('ERR_KERNEL_NOT_BUILT', `${path} not found: run \`npm run build\``);
  }
}

/** The kernel's linear memory cannot grow to what the call needs. */
export class KernelMemoryError extends KernelError {
  constructor(kernel: string, bytes: number) {
    super('ERR_KERNEL_MEMORY', `kernel ${kernel} cannot allocate ${bytes} bytes of linear memory`);
  }
}

function describe(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as ArrayBufferView).byteLength} bytes)`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Bytes from the (authenticated) peer that do not form a valid session message: thrown by the
 * session codec (session/) and by the slot-delta kernel that decodes its largest field, so it is
 * defined here, below both.
 */
export class SessionMessageError extends Error {
  readonly code = 'ERR_SESSION_MESSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'SessionMessageError';
  }
}
