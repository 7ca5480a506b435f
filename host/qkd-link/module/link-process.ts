/**
 * A standalone module process: one end of a QKD link with its board, its own key store (opened
 * through Kq's LinkStoreOpener, host/kq/link-store.ts) and the TCP session to the other module. `link-main.ts <config>` runs it and
 * prints every block report and state change as one JSON line on stdout, so a supervisor (or a
 * test) can follow the link; SIGTERM/SIGINT stop it cleanly. Being killed at any other instant is
 * also safe: see link-state.ts.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { linkSink, type LinkStoreOpener, type OwnLinkStore, type SubkeySource } from '../../kq/link-store.js';
import { BoardReceiverPort, BoardTransmitterPort } from './boards/board-ports.js';
import type { ReceiverPort, TransmitterPort } from './boards/boards.js';
import type { LinkConfig } from './config.js';
import { BLOCK_CHANNEL, SECURITY_CHANNEL, STATE_CHANNEL } from './diagnostics.js';
import { LinkModule } from './link-module.js';

export type LinkEventKind = 'block' | 'state' | 'security';

export interface RunningLink {
  readonly module: LinkModule;
  readonly store: OwnLinkStore;
  readonly storageKey: SubkeySource;
  /** Stops the session, closes the board, the workers, the state and the store. */
  close(): Promise<void>;
}

/**
 * Opens one end from its configuration: storage key and key store in dataDir (from `stores`), the
 * board (opened, configured and started), the module; starts it. `onEvent` sees this link's events.
 */
export async function startLinkEnd(
  config: LinkConfig,
  stores: LinkStoreOpener,
  onEvent?: (kind: LinkEventKind, event: object) => void,
  random?: (n: number) => Uint8Array,
): Promise<RunningLink> {
  const storageKey = stores.storageKey(config);
  const store = await stores.store(config, storageKey);
  const sink = linkSink(store, { linkId: config.linkId, ends: [config.node, config.peer], peer: config.peer, unitBits: config.unitBits, capacity: 1 << 30 });
  const after = store.high(config.peer, 'link');
  let board: TransmitterPort | ReceiverPort | undefined;
  const listeners: Array<[string, (m: unknown) => void]> = [];
  if (onEvent) {
    const mine = (m: unknown) => (m as { linkId?: string }).linkId === config.linkId && ((m as { role?: string }).role ?? config.role) === config.role;
    for (const [name, kind] of [[BLOCK_CHANNEL, 'block'], [STATE_CHANNEL, 'state'], [SECURITY_CHANNEL, 'security']] as const) {
      const fn = (m: unknown) => {
        if (mine(m)) onEvent(kind, m as object);
      };
      subscribe(name, fn);
      listeners.push([name, fn]);
    }
  }
  const unsubscribeAll = () => {
    for (const [name, fn] of listeners.splice(0)) unsubscribe(name, fn);
  };
  try {
    board = config.role === 'alice' ? await BoardTransmitterPort.open(config) : await BoardReceiverPort.open(config);
    const module = await LinkModule.open({ config, storageKey, board, ...(random ? { random } : {}) });
    await module.startAsync(sink, after);
    let closing: Promise<void> | undefined;
    return {
      module,
      store,
      storageKey,
      close: () =>
        (closing ??= (async () => {
          await module.close();
          await store.close();
          unsubscribeAll();
        })()),
    };
  } catch (e) {
    await board?.close().catch(() => undefined);
    await store.close();
    unsubscribeAll();
    throw e;
  }
}
