import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KmConfigError } from '../km/errors.js';
import { loadConfig } from './config.js';
import { isIwnConfig, loadIwnConfig } from './iwn.js';

const examples = fileURLToPath(new URL('../interworking/iwn/examples/', import.meta.url));

test('the example IWN configuration loads: two sides of two providers, each KM an ordinary node of its network', () => {
  const c = loadIwnConfig(join(examples, 'iwn.yaml'));
  assert.ok(isIwnConfig(join(examples, 'iwn.yaml')));
  assert.not.ok(isIwnConfig(join(examples, 'a1.yaml')));
  assert.equal(c.sides.map((s) => [s.provider, s.node.node]), [['qkdn-a', 'iwn-a'], ['qkdn-b', 'iwn-b']]);
  assert.is(c.sides[0].node.network.saes.find((s) => s.id === 'bob')?.node, 'iwn-a', "QKDN-A places B's shared SAE on KM-A");
  assert.not.equal(c.sides[0].node.dataDir, c.sides[1].node.dataDir);
  for (const n of ['a1', 'b1']) assert.is(loadConfig(join(examples, `${n}.yaml`)).control?.form, 'distributed');
});

test('an IWN configuration with one provider twice, or one data directory for both KMs, is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-iwn-config-'));
  try {
    const write = (sides: string) => {
      const p = join(dir, 'iwn.yaml');
      writeFileSync(p, `role: interworking\nnode: iwn\ntransferLink: kxi-ab\nsides:\n${sides}`);
      return p;
    };
    const side = (provider: string, config: string) => `  - { provider: ${provider}, config: ${join(examples, config)}, shares: [] }\n`;
    assert.throws(() => loadIwnConfig(write(side('qkdn-a', 'km-a.yaml') + side('qkdn-a', 'km-b.yaml'))), (e: unknown) => e instanceof KmConfigError && /two providers/.test(e.message));
    assert.throws(() => loadIwnConfig(write(side('qkdn-a', 'km-a.yaml') + side('qkdn-b', 'km-a.yaml'))), (e: unknown) => e instanceof KmConfigError && /own stores/.test(e.message));
    assert.throws(() => loadIwnConfig(write(side('qkdn-a', 'km-a.yaml'))), (e: unknown) => e instanceof KmConfigError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
