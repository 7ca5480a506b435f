/**
 * The bridge HIL suite: every scenario on the emulated boards (real ptys, real processes), and on
 * real boards when QKD_BOARD_TX and QKD_BOARD_RX name them; otherwise the hardware run shows as
 * skipped with what it needs.
 */
import { test } from 'uvu';
import { emulatorFactory, hardwareFactory } from './board-factory.js';
import { scenarios } from './scenarios.js';

const hardware = hardwareFactory();

for (const s of scenarios) {
  test(`emulator: ${s.name}`, () => s.run(emulatorFactory));
  if ('missing' in hardware) test.skip(`hardware: ${s.name} (needs ${hardware.missing})`, () => {});
  else if (s.needs === 'emulator') test.skip(`hardware: ${s.name} (needs the emulator's fault and physics controls)`, () => {});
  else test(`hardware: ${s.name}`, () => s.run(hardware));
}

test.run();
