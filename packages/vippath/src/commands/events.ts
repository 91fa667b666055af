import type { SimulatedCluster } from '@vippath/cluster';
import { parseDuration, UsageError } from '../io.js';

/** A scheduled change from the command line: `--node-down node3@2s`, `--node-up node3@20s`, `--not-ready POD@5s`, `--ready POD@9s`. */
export interface EventOption {
  kind: '--node-down' | '--node-up' | '--not-ready' | '--ready';
  target: string;
  at: number;
}

export const EVENT_OPTIONS = ['--node-down', '--node-up', '--not-ready', '--ready'] as const;

export const EVENT_USAGE = `  --node-down NODE@T   lose NODE at simulated time T (1500, 1500ms, 2s): its NIC, speaker and pods go;
                       MetalLB re-elects after failure detection, endpoints turn not ready after 40 s
  --node-up NODE@T     bring it back
  --not-ready POD@T    mark a pod's endpoint not ready (--ready POD@T: ready again)`;

/** Collects the event options (they may repeat) and leaves the other arguments. */
export function eventOptions(args: string[]): { events: EventOption[]; rest: string[] } {
  const events: EventOption[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.split('=', 2) as [string, string | undefined];
    if ((EVENT_OPTIONS as readonly string[]).includes(name)) {
      const v = inline ?? args[++i];
      const m = v === undefined ? null : /^([^@]+)@(.+)$/.exec(v);
      if (!m) throw new UsageError(`${name} needs NAME@TIME, e.g. ${name} ${name.includes('node') ? 'node3' : 'deploy-169402624-2'}@2s`);
      events.push({ kind: name as EventOption['kind'], target: m[1]!, at: parseDuration(m[2]!, name) });
    } else rest.push(args[i]!);
  }
  return { events, rest };
}

/** Schedules the events on the simulation (unknown names are typed errors from the simulation). */
export function scheduleEvents(sim: SimulatedCluster, events: EventOption[]): void {
  for (const e of events) {
    if (e.kind === '--node-down') sim.nodeDown(e.target, e.at);
    else if (e.kind === '--node-up') sim.nodeUp(e.target, e.at);
    else sim.setPodReady(e.target, e.kind === '--ready', e.at);
  }
}
