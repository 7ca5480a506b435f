import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { IWN_FUNCTIONAL_ELEMENTS } from './functional-elements.js';

const here = new URL('.', import.meta.url);
const root = new URL('../../../', import.meta.url);

test('every functional element of Y.3818 clause 7.2 is mapped', () => {
  const of72 = ['key transfer', 'key supply', 'session control', 'routing control', 'policy-based control', 'configuration control', 'fault management', 'configuration management', 'accounting management', 'performance management', 'security management'];
  assert.equal(IWN_FUNCTIONAL_ELEMENTS.map((f) => f.element).sort(), of72.map((e) => `${e} function`).sort());
});

test('each file of the map names its element, and each test named exists', () => {
  for (const f of IWN_FUNCTIONAL_ELEMENTS) {
    for (const file of f.files) assert.match(readFileSync(new URL(file, here), 'utf8').toLowerCase().replace(/\s*\n\s*\*\s*/g, ' '), f.element, `${file} names the ${f.element}`);
    assert.ok(f.tests.length > 0 && f.tests.every((t) => existsSync(new URL(t, root))), `${f.element}: its tests exist`);
  }
});

test.run();
