import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransferJournal, type OutEntry } from './transfer-journal.js';

const out = (supply: string, units: string[]): OutEntry => ({ supply, relay: `r-${supply}`, peer: 'a1', origin: 'link', master: 'alice', slaves: ['bob'], heads: units.slice(0, 1), units, state: 'sending', at: Date.now() });

test('entries survive a reopen; a state moves only from the states named; units find their transfer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-journal-'));
  try {
    let j = TransferJournal.open(dir);
    await j.putOut(out('s1', ['u1', 'u2']));
    await j.putIn({ relay: 'r9', supply: 's9', dest: 'b1', units: ['u9'], state: 'handing-over', at: Date.now() });
    assert.ok(await j.moveOut('s1', ['sending'], 'committed'));
    assert.is(await j.moveOut('s1', ['sending'], 'voided'), undefined, 'a committed transfer is not voided as if in doubt');
    await j.close();
    j = TransferJournal.open(dir);
    assert.is(j.out('s1')?.state, 'committed');
    assert.is(j.in('r9')?.state, 'handing-over');
    assert.equal(
      j.outByUnits(['u2', 'x']).map((e) => e.supply),
      ['s1'],
    );
    assert.is(await j.prune(Date.now() + 1), 1, 'finished entries are pruned; one still handing over is kept');
    assert.is(j.out('s1'), undefined);
    assert.equal(j.outByUnits(['u1']), []);
    assert.is(j.in('r9')?.state, 'handing-over');
    await j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
