/**
 * The real cluster in userspace (OVS + OVN) as the oracle of the simulation: {@link Testbed} builds it from
 * vippath's derived state, {@link Differential} feeds both frame by frame and compares every port, and
 * {@link verifyFrames} does a whole capture in a throwaway testbed (what `vippath verify` runs).
 * @module
 */
import { SimulatedCluster, type ClusterSpec, type K8sObject, type TimelineEvent } from '@vippath/cluster';
import { Differential, type DifferentialTotals, type DriveFrame, type StepResult } from './differential.js';
import { Testbed, type TestbedOptions, type TestbedSource } from './testbed.js';

export { Testbed, type TestbedOptions, type TestbedProfile, type TestbedSource, type TapFrame } from './testbed.js';
export { CollectedNorthboundError, collectedOverlay, collectedPortFor, prepareCollectedNorthbound, type CollectedNorthbound } from './collected.js';
export { Differential, EXCLUSIONS, hintFor, type Difference, type DifferentialTotals, type DriveFrame, type ExclusionReason, type Observe, type PortFrames, type StepResult } from './differential.js';
export { Daemons, installedOvnVersion, TestbedError, testbedUnavailable, TESTBED_PROGRAMS } from './daemons.js';

/** What {@link verifyFrames} gives back. */
export interface VerifyResult {
  totals: DifferentialTotals;
  steps: StepResult[];
  /** The simulation's timeline (node losses, readiness, owner changes, ovn-controller's announcements). */
  events: TimelineEvent[];
  /** What the real side was built from (its Northbound, Kube-OVN's patch flows). */
  source: TestbedSource;
}

/**
 * Feeds `frames` through a fresh simulation and a throwaway real cluster built from the same description;
 * `skipped` inputs (counted by reason) are added to the totals' exclusions. The testbed is stopped however
 * this ends.
 */
export async function verifyFrames(objects: K8sObject[], cluster: ClusterSpec, frames: DriveFrame[], options: TestbedOptions & { excluded?: Record<string, number>; onStep?: (s: StepResult) => void; setup?: (diff: Differential) => void } = {}): Promise<VerifyResult> {
  const bed = await Testbed.start(objects, cluster, options);
  try {
    // The testbed's pods are bound just before the first input: the simulation's are bound at time 0.
    // Compared with the installed OVN, the simulation runs that release's flows (not the profile's own release).
    const sim = new SimulatedCluster(objects, cluster, { vifBoundAt: 0, ovnVersion: bed.ovnVersion });
    const diff = new Differential(sim, bed);
    for (const [reason, n] of Object.entries(options.excluded ?? {})) diff.exclude(reason as never, n);
    // Events (node down/up, readiness) go on both sides before the first frame, each at its own simulated time.
    options.setup?.(diff);
    const steps: StepResult[] = [];
    for (const f of frames) {
      const s = await diff.feed(f);
      steps.push(s);
      options.onStep?.(s);
    }
    return { totals: diff.totals, steps, events: sim.events, source: bed.source };
  } finally {
    await bed.stop();
  }
}
