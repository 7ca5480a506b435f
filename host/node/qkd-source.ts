/**
 * The `qkd` key source of a node (key-sources.ts registers it and loads this module the first time
 * a node configuration names a link with `source: { type: qkd, ... }`): one end of a real QKD link,
 * run by the link module in the node's process, feeding the node's key store through the KM's sink.
 *
 * The link's `source` map holds this end's link-module settings (config.ts, the same keys as a
 * standalone link-main.ts YAML): `board`, `address`, `psk`, and optionally `role`, `protocol`,
 * `block`, `security`, `auth`, `workers`, `passphraseEnv`. The node supplies the rest: the link
 * ID, both node IDs, the unit size, and the data directory (`<node dataDir>/qkd-link/<link id>`,
 * where the module keeps its state, its authentication ledger and its storage key). The role is
 * `alice` (transmitter) at the link's first end and `bob` at the second unless `role` says so.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { KeySink, KeySource } from '../kq/key-source.js';
import { linkStoreOpener } from '../km/link-store.js';
import { BoardReceiverPort, BoardTransmitterPort } from '../qkd-link/module/boards/board-ports.js';
import type { ReceiverPort, TransmitterPort } from '../qkd-link/module/boards/boards.js';
import { parseLinkConfig, type LinkConfig } from '../qkd-link/module/config.js';
import { LinkConfigError } from '../qkd-link/module/errors.js';
import { LinkModule } from '../qkd-link/module/link-module.js';
import type { KeySourceConfig } from './config.js';
import type { KeySourceContext } from './key-sources.js';

/** The link-module configuration of this node's end of `ctx.link`. */
export function nodeLinkConfig(source: KeySourceConfig, ctx: KeySourceContext): LinkConfig {
  if (source.type !== 'qkd') throw new LinkConfigError(`links.${ctx.link.id}.source.type`, 'expected qkd');
  const { type: _type, ...options } = source as Record<string, unknown>;
  const role = options.role ?? (ctx.link.ends[0] === ctx.node ? 'alice' : 'bob');
  const dataDir = join(ctx.config.dataDir, 'qkd-link', ctx.link.id);
  return parseLinkConfig({ ...options, linkId: ctx.link.id, role, node: ctx.node, peer: ctx.peer, unitBits: ctx.unitBits, dataDir }, ctx.config.dataDir, Math.max(1, availableParallelism() - 1));
}

/**
 * The KM's view of the running end: the link module (which pushes units into the KM's sink),
 * opened with its board; stop() also closes the board, the worker threads and the module's state.
 */
class QkdKeySource implements KeySource {
  readonly kind = 'qkd' as const;
  readonly linkId: string;
  readonly peer: string;
  readonly unitBits: number;
  constructor(private readonly module: LinkModule) {
    this.linkId = module.linkId;
    this.peer = module.peer;
    this.unitBits = module.unitBits;
  }

  start(sink: KeySink, after: number): void {
    this.module.start(sink, after);
  }

  stop(): Promise<void> {
    return this.module.close();
  }
}

export async function openQkdKeySource(source: KeySourceConfig, ctx: KeySourceContext): Promise<KeySource> {
  const config = nodeLinkConfig(source, ctx);
  const storageKey = linkStoreOpener.storageKey(config);
  const board: TransmitterPort | ReceiverPort = config.role === 'alice' ? await BoardTransmitterPort.open(config) : await BoardReceiverPort.open(config);
  try {
    return new QkdKeySource(await LinkModule.open({ config, storageKey, board }));
  } catch (e) {
    await board.close().catch(() => undefined);
    throw e;
  }
}
