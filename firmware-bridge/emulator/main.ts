/**
 * Entry point of one emulated board process:
 *   node --import tsx firmware-bridge/emulator/main.ts '<BoardOptions as JSON>'
 * Started by spawn.ts with an IPC channel; without one (run by hand) it just serves the pty
 * named in the options until killed.
 */
import type { BoardOptions, EmulatedBoard } from './board.js';
import { ReceiverBoard } from './receiver.js';
import { TransmitterBoard } from './transmitter.js';
import type { ControlMessage, ControlReply, Envelope } from './control.js';

const send = (m: ControlMessage): void => {
  process.send?.(m);
};

let board: EmulatedBoard;
try {
  const opts = JSON.parse(process.argv[2] ?? '{}') as BoardOptions;
  if (opts.role === 'tx') {
    const tx = new TransmitterBoard(opts);
    tx.onEmission = (emissions) => send({ op: 'emission', emissions });
    board = tx;
  } else board = new ReceiverBoard(opts);
  const slavePath = board.plugIn();
  send({ op: 'ready', path: opts.link, slavePath, pid: process.pid });
  if (!process.send) process.stderr.write(`${opts.role} board ${opts.serial} on ${opts.link} -> ${slavePath}\n`);
} catch (e) {
  send({ op: 'failed', error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}

function handle(req: Envelope): ControlReply {
  switch (req.op) {
    case 'faults':
      board.setFaults(req.faults);
      return null;
    case 'stall':
      board.stall(req.ms);
      return null;
    case 'unplug':
      board.unplug(req.downMs);
      return null;
    case 'alarm':
      if (req.clear) board.clearAlarm(req.code, req.sev, req.msg);
      else board.raiseAlarm(req.code, req.sev, req.msg);
      return null;
    case 'inject':
      board.inject(req.bytes);
      return null;
    case 'send':
      board.sendRaw(req.type, req.payload);
      return null;
    case 'stats':
      return board.stats();
    case 'logs':
      return board.recentLogs();
    case 'fibre':
      if (!(board instanceof ReceiverBoard)) throw new Error('the fibre goes to a receiver');
      board.setFibre(req.emissions);
      return null;
    case 'channel':
      board.setChannel(req);
      return null;
    case 'exit':
      board.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (m: Envelope) => {
  try {
    send({ op: 'reply', id: m.id, result: handle(m) });
  } catch (e) {
    send({ op: 'reply', id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
// The bench went away: unplug and leave no pty behind.
process.on('disconnect', () => {
  board.close();
  process.exit(0);
});
const bye = (): void => {
  board.close();
  process.exit(0);
};
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
