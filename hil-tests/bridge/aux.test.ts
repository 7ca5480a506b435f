/** Aux I/O HIL scenarios: the emulated Firmata board always, a real one when QKD_AUX names it. */
import { test } from 'uvu';
import { auxEmulatorFactory, auxHardwareFactory, auxScenarios } from './aux-scenarios.js';

const hardware = auxHardwareFactory();

for (const s of auxScenarios) {
  test(`emulator: ${s.name}`, () => s.run(auxEmulatorFactory));
  if ('missing' in hardware) test.skip(`hardware: ${s.name} (needs ${hardware.missing})`, () => {});
  else if (s.needs === 'emulator') test.skip(`hardware: ${s.name} (needs the emulated board to drive the lid and read the outputs)`, () => {});
  else test(`hardware: ${s.name}`, () => s.run(hardware));
}

test.run();
