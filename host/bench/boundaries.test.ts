/**
 * The dependency rule is enforced by ESLint (eslint.config.js, no-restricted-imports per folder and
 * a small rule holding constant dynamic import()s to the same patterns),
 * which `npm test` runs over the tree. These cases lint small in-memory files as if they sat in a
 * given folder, so a rule that stopped matching (a renamed folder, a broken pattern) fails here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The no-restricted-imports messages for `source` placed at `path` (relative to the repository). */
async function violations(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'layers/dynamic-import').map((m) => m.message);
}

const refused: Array<[string, string]> = [
  ['host/qkd-link/module/x.ts', "import { KeyStore } from '../../km/key-store.js';"],
  ['host/qkd-link/module/x.ts', "import type { NodeConfig } from '../../node/config.js';"],
  ['host/qkd-link/channel/x.ts', "export { CHANNELS } from '../../km/diagnostics.js';"],
  ['host/km/x.ts', "import { LinkModule } from '../qkd-link/module/link-module.js';"],
  ['host/km/kx/x.ts', "import { runNodeCommand } from '../../node/node.js';"],
  ['host/km/x.ts', "import { x } from '../controller/x.js';"],
  ['host/km/x.ts', "import { x } from '../manager/x.js';"],
  ['host/km/x.ts', "import { x } from '../interworking/x.js';"],
  ['host/km/kx/x.ts', "import { BoardDriver } from '../../../firmware-bridge/driver/board-driver.js';"],
  ['host/kq/x.ts', "import { KeyStore } from '../km/key-store.js';"],
  ['host/bench/x.ts', "import { KeyManager } from '../km/key-manager.js';"],
  ['host/controller/x.ts', "import { x } from '../manager/x.js';"],
  ['host/controller/x.ts', "import { x } from '../interworking/x.js';"],
  ['host/controller/x.ts', "import { LinkModule } from '../qkd-link/module/link-module.js';"],
  ['host/manager/x.ts', "import { KeyManager } from '../km/key-manager.js';"],
  ['host/manager/x.ts', "import type { KeyUnit } from '../kq/key-source.js';"],
  ['host/manager/x.ts', "import { x } from '../controller/routing.js';"],
  ['host/manager/x.ts', "import { CHANNELS } from '../interworking/diagnostics.js';"],
  ['host/manager/x.ts', "import type { ClientRefusedEvent } from '../api/diagnostics.js';"],
  ['host/interworking/x.ts', "import { x } from '../qkd-link/module/link-module.js';"],
  ['host/interworking/x.ts', "import { x } from '../node/node.js';"],
  ['host/api/x.ts', "import { x } from '../node/node.js';"],
  ['host/node/x.ts', "import { x } from '../cli/main.js';"],
  ['firmware-bridge/driver/x.ts', "import { x } from '../../host/kq/key-source.js';"],
  ['host/node/x.ts', "import { startTestNetwork } from '../km/test-network.js';"],
  ['host/qkd-link/kernels/x.ts', "import { SessionMessageError } from '../session/messages.js';"],
  // a dynamic import is held to the same rule (the cycle issue 12 found was one)
  ['host/qkd-link/module/x.ts', "export const load = () => import('../../node/key-sources.js');"],
  ['host/km/x.ts', 'export const load = () => import(`../controller/x.js`);'],
  ['host/manager/x.ts', "export const load = async () => (await import('../km/key-manager.js')).KeyManager;"],
];

const allowed: Array<[string, string]> = [
  ['host/qkd-link/module/x.ts', "import type { KeySink } from '../../kq/key-source.js';"],
  ['host/qkd-link/module/x.ts', "import { BoardDriver } from '../../../firmware-bridge/driver/board-driver.js';"],
  ['host/qkd-link/module/x.ts', "import { processCpuSeconds } from '../../bench/cpu-time.js';"],
  ['host/km/x.ts', "import { linkSink } from '../kq/link-store.js';"],
  ['host/km/kx/x.ts', "import { checkCbor } from '../../../firmware-bridge/protocol/cbor.js';"],
  ['host/controller/x.ts', "import type { Router } from '../km/routing.js';"],
  ['host/manager/x.ts', "import { CHANNELS } from '../km/diagnostics.js';"],
  ['host/manager/x.ts', "import { BLOCK_CHANNEL } from '../qkd-link/module/diagnostics.js';"],
  ['host/interworking/x.ts', "import { x } from '../controller/x.js';"],
  ['host/interworking/x.ts', "import { x } from '../manager/x.js';"],
  ['host/interworking/x.ts', "import { KeyManager } from '../km/key-manager.js';"],
  ['host/node/x.ts', "import { LinkModule } from '../qkd-link/module/link-module.js';"],
  ['host/km/x.test.ts', "import { startTestNetwork } from './test-network.js';"],
  ['host/api/x.test.ts', "import { startTestNetwork } from '../km/test-network.js';"],
  ['host/node/x.ts', "export const load = () => import('../qkd-link/module/link-module.js');"],
  ['host/cli/x.ts', 'export const load = (f: string) => import(f);'],
];

test('a wrong-way import fails the lint that npm test runs', async () => {
  for (const [path, source] of refused) {
    const found = await violations(path, source);
    assert.ok(found.length === 1, `${path}: ${source} should be refused; got ${JSON.stringify(found)}`);
  }
});

test('imports that follow the dependency rule pass it', async () => {
  for (const [path, source] of allowed) assert.equal(await violations(path, source), [], `${path}: ${source}`);
});

test.run();
