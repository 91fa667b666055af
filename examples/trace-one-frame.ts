/**
 * Trace one frame: describe it the way you would say it, inject it, and read the stages (the same text
 * `vippath trace` prints).
 */
import { DEFAULT_CLUSTER, defaultObjects, formatTraceLine, frameFromDescription, SimulatedCluster, traceLine, type TraceLine } from '@vippath/cluster';

export function traceSyn(description = 'tcp,dst=10.180.204.252,dport=80,flags=S'): { line: TraceLine; text: string } {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
  const frame = frameFromDescription(description, sim);
  const line = traceLine(1, 0, 'outside', frame, sim.inject(frame, 0));
  return { line, text: formatTraceLine(line) };
}
