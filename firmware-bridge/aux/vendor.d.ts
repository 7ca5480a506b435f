/**
 * The parts of johnny-five 2.1 and firmata-io 2.3 (both untyped CommonJS) that aux-io.ts uses,
 * typed here so the rest of the code stays strict.
 */
declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';
  interface FirmataOptions {
    reportVersionTimeout?: number;
    samplingInterval?: number;
    skipCapabilities?: boolean;
  }
  /** A Firmata client over any Duplex-like transport with open/data/close/error events and write(). */
  export class Firmata extends EventEmitter {
    constructor(transport: object, options?: FirmataOptions, callback?: (error?: Error) => void);
    readonly isReady: boolean;
    readonly MODES: Readonly<Record<string, number>>;
    readonly firmware: { name?: string; version?: { major: number; minor: number } };
    readonly version: { major?: number; minor?: number };
    name: string;
    defaultLed: number;
    port: string;
  }
  interface BindTransport {
    (transport: unknown): typeof Firmata;
    Firmata: typeof Firmata;
  }
  const bindTransport: BindTransport;
  export default bindTransport;
}

declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';
  interface BoardOptions {
    io: object;
    repl?: boolean;
    debug?: boolean;
    sigint?: boolean;
    timeout?: number;
  }
  export class Board extends EventEmitter {
    constructor(options: BoardOptions);
    readonly isReady: boolean;
  }
  interface ComponentOptions {
    board?: Board;
  }
  export class Switch extends EventEmitter {
    constructor(options: ComponentOptions & { pin: number; type?: 'NO' | 'NC' });
    readonly isOpen: boolean;
    readonly isClosed: boolean;
  }
  export class Thermometer extends EventEmitter {
    constructor(options: ComponentOptions & { controller: string; pin: string | number; freq?: number; toCelsius?: (raw: number) => number });
    readonly celsius: number;
    /** Sampling period, ms; null stops the sampling timer. */
    freq: number | null;
  }
  export class Relay {
    constructor(options: ComponentOptions & { pin: number; type?: 'NO' | 'NC' });
    open(): void;
    close(): void;
    readonly isOn: boolean;
  }
  export class Led {
    constructor(options: ComponentOptions & { pin: number });
    on(): void;
    off(): void;
    blink(ms?: number): void;
    stop(): void;
  }
  const five: { Board: typeof Board; Switch: typeof Switch; Thermometer: typeof Thermometer; Relay: typeof Relay; Led: typeof Led };
  export default five;
}
