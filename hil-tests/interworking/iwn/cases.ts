/**
 * One conformance case run: the IWN network of a configuration started, one procedure's scenario
 * run on it (scenarios.ts, the same code as iwn.test.ts), everything stopped.
 */
import { startIwnNetwork, type IwnConfiguration } from './iwn-network.js';
import { PROCEDURES, type IwnProcedure } from './scenarios.js';

export async function runIwnCase(figure: IwnConfiguration, procedure: IwnProcedure): Promise<{ checks: number }> {
  const net = await startIwnNetwork({ configuration: figure });
  try {
    return await PROCEDURES[procedure].run(net);
  } finally {
    await net.stop();
  }
}
