/**
 * Entry point of the emulated aux I/O board process:
 *   node --import tsx firmware-bridge/aux/firmata-main.ts '{"link": "/tmp/x/aux", "model": "QKDN-AUX-UNO"}'
 */
import { FirmataBoard, type FirmataBoardState } from './firmata-board.js';
import { auxBoardModel } from './aux-models.js';
import { MasterPort } from '../emulator/master-port.js';
import { openPty, pointLink, removeLink } from '../emulator/pty.js';

export type AuxControlRequest =
  | { readonly op: 'lid'; readonly open: boolean }
  | { readonly op: 'temperatures'; readonly detectorC?: number; readonly enclosureC?: number }
  | { readonly op: 'state' }
  /** Pulls the USB cable: the host's port hangs up. */
  | { readonly op: 'unplug' }
  | { readonly op: 'exit' };

export type AuxControlMessage =
  | { readonly op: 'ready'; readonly path: string; readonly pid: number }
  | { readonly op: 'reply'; readonly id: number; readonly state: FirmataBoardState; readonly at: number }
  | { readonly op: 'outputs'; readonly state: FirmataBoardState }
  | { readonly op: 'failed'; readonly error: string };

const send = (m: AuxControlMessage): void => {
  process.send?.(m);
};

const opts = JSON.parse(process.argv[2] ?? '{}') as { link: string; model?: string };
const model = auxBoardModel(opts.model ?? 'QKDN-AUX-UNO');
if (!model) {
  send({ op: 'failed', error: `unknown aux board model ${opts.model}` });
  process.exit(1);
}
let board: FirmataBoard;
let port: MasterPort;
try {
  const pty = openPty();
  board = new FirmataBoard(model, (b) => port.write(b));
  port = new MasterPort(pty, (chunk) => board.push(chunk), () => {});
  board.onOutputs = (state) => send({ op: 'outputs', state });
  pointLink(opts.link, pty.slavePath);
  send({ op: 'ready', path: opts.link, pid: process.pid });
} catch (e) {
  send({ op: 'failed', error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}

function bye(): void {
  board.close();
  port.close();
  removeLink(opts.link);
  process.exit(0);
}

process.on('message', (m: AuxControlRequest & { id: number }) => {
  if (m.op === 'lid') board.setLid(m.open);
  else if (m.op === 'temperatures') board.setTemperatures(m);
  else if (m.op === 'unplug') {
    port.close();
    removeLink(opts.link);
  }
  // `at` lets the bench measure how long the host took to see a change.
  send({ op: 'reply', id: m.id, state: board.state(), at: Date.now() });
  if (m.op === 'exit') setImmediate(bye);
});
process.on('disconnect', bye);
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
