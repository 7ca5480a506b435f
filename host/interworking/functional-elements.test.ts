import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { FUNCTIONAL_ELEMENTS } from './functional-elements.js';

const here = new URL('.', import.meta.url);

test('every functional element of Y.3818 clauses 7.1 and 7.2 is in the map', () => {
  const of71 = ['key relay', 'key supply', 'session control', 'routing control', 'policy-based control', 'configuration control', 'fault management', 'configuration management', 'accounting management', 'performance management', 'security management'];
  const of72 = ['key transfer', ...of71.filter((e) => e !== 'key relay')];
  for (const [clause, list] of [['7.1', of71], ['7.2', of72]] as const)
    for (const e of list) assert.ok(FUNCTIONAL_ELEMENTS.some((f) => f.element === `${e} function` && f.clauses.includes(clause)), `${e} (${clause})`);
});

test('each file of the map exists and names its element in the code', () => {
  for (const f of FUNCTIONAL_ELEMENTS) {
    assert.ok(f.files.length > 0, f.element);
    for (const file of f.files) assert.match(readFileSync(new URL(file, here), 'utf8').toLowerCase().replace(/\s*\n\s*\*\s*/g, ' '), f.element, `${file} names the ${f.element}`);
  }
});

test.run();
