import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KeySourceContext } from './key-sources.js';
import type { NodeConfig } from './config.js';
import { nodeLinkConfig } from './qkd-source.js';

const context = (node: string, peer: string): KeySourceContext => ({
  link: { id: 'A~B', ends: ['A', 'B'], source: { type: 'qkd' } },
  node,
  peer,
  unitBits: 512,
  config: { dataDir: '/var/lib/qkdn/A' } as unknown as NodeConfig,
});

test('a node link of type qkd runs the link module with the node’s IDs, unit size and data directory', () => {
  const source = { type: 'qkd' as const, board: { port: '/dev/ttyACM0' }, address: { host: '10.0.0.2', port: 7001 }, psk: { hex: '00'.repeat(1024) }, protocol: { clockHz: 1e8 } };
  const a = nodeLinkConfig(source, context('A', 'B'));
  assert.equal([a.linkId, a.role, a.node, a.peer, a.unitBits], ['A~B', 'alice', 'A', 'B', 512]);
  assert.is(a.dataDir, '/var/lib/qkdn/A/qkd-link/A~B');
  assert.is(a.protocol.clockHz, 1e8);
  assert.is(a.board.port, '/dev/ttyACM0');
  const b = nodeLinkConfig(source, context('B', 'A'));
  assert.is(b.role, 'bob', 'the second end of the link receives');
  assert.is(nodeLinkConfig({ ...source, role: 'alice' }, context('B', 'A')).role, 'alice', 'unless the source says otherwise');
  assert.throws(() => nodeLinkConfig({ type: 'qkd', address: { host: 'x', port: 1 } }, context('A', 'B')), /board/);
});

test.run();
