// The part of the WebAssembly JS API the kernel loader uses. Node has it as a global, but
// @types/node 20 does not declare it and TypeScript keeps it in lib.dom, which we do not load.
declare namespace WebAssembly {
  type ImportValue = ((...args: number[]) => number | void) | Memory;
  type Imports = Record<string, Record<string, ImportValue>>;
  type Exports = Record<string, ((...args: number[]) => number) | Memory | Global>;
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Exports;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Global {
    value: number;
  }
  class RuntimeError extends Error {}
  class CompileError extends Error {}
  function validate(bytes: BufferSource): boolean;
  function compile(bytes: BufferSource): Promise<Module>;
}
type BufferSource = ArrayBufferView | ArrayBuffer;
