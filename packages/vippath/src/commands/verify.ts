import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedCluster, SnapshotError, subnetName, type K8sObject, type ClusterSpec } from '@vippath/cluster';
import { LflowError } from '@vippath/ovn';
import { readCaptureSync } from '@vippath/pcap';
import { parseArgs, UsageError, type Command } from '../io.js';
import type { Difference, DriveFrame, TestbedProfile, TestbedSource } from '../testbed/index.js';
import { manifestFiles, scenarioFrom, type ScenarioFiles } from './cluster.js';
import { EVENT_USAGE, eventOptions, scheduleEvents } from './events.js';

function frameLines(label: string, text: string | null, hex: string | null): string {
  if (hex === null) return `    ${label}: (nothing)\n`;
  return `    ${label}: ${text}\n      ${hex.replace(/(.{96})/g, '$1\n      ').trimEnd()}\n`;
}

function differenceText(d: Difference): string {
  let out = `input ${d.input} (${d.label}), port ${d.port}, frame ${d.position + 1}:\n`;
  out += frameLines('real     ', d.realText, d.real);
  out += frameLines('simulated', d.simulatedText, d.simulated);
  if (d.hint) out += `    known: ${d.hint}\n`;
  out += '    vippath stages:\n';
  for (const s of d.stages) out += `      ${s.stage.padEnd(13)} ${s.at}: ${s.decision}\n`;
  return out;
}

/** One line on what the real side was built from. */
function sourceText(s: TestbedSource, profile: TestbedProfile): string {
  const nb = s.northbound.from === 'collected'
    ? `Northbound ${s.northbound.file} (as collected, ${s.northbound.format} ${s.northbound.version}${s.northbound.convertedTo ? `, converted to the installed schema ${s.northbound.convertedTo}: what it does not know is left out` : ''}; pods bound to its ports${s.northbound.unbound.length ? `; no port for ${s.northbound.unbound.join(', ')}` : ''})`
    : 'Northbound derived by vippath from the Kubernetes objects';
  const patches = s.patchFlows.from === 'collected'
    ? `Kube-OVN patch flows: the collected Southbound's own rows (${s.patchFlows.added} written, ${s.patchFlows.removed} of ovn-northd's replaced)`
    : s.patchFlows.from === 'vippath'
      ? `Kube-OVN patch flows computed by vippath${s.northbound.from === 'collected' ? ' on that Northbound (no collected Southbound flows of the switch to take them from: see vippath lint --snapshot)' : ''} (${s.patchFlows.added} written, ${s.patchFlows.removed} replaced)`
      : 'no Kube-OVN patch flows (profile upstream)';
  return `real side: ${nb}; ${patches}`;
}

/** `vippath verify`. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'replay a capture through vippath and a throwaway real OVS + OVN cluster; show where they differ',
  usage: `usage: vippath verify CAPTURE [--manifests FILE]… [--cluster FILE] [--snapshot DIR [--real-northbound collected|derived] [--strict-lflows]] [--profile kube-ovn|upstream] [--ingress AT] [--show N] [--json] [--keep]

Builds the same scenario twice — in vippath's simulation and as a real cluster of ovs-vswitchd, ovsdb-server,
ovn-northd and one ovn-controller per node, all in userspace (dummy datapath) in a temporary directory — then
feeds every frame the capture's client sent, in lockstep, to both, waits until the real one is quiet, and
compares what every port sent (the outside client, each node NIC in and out, each br-provider LOCAL port,
each pod), byte for byte. Pods are answered by vippath's own pod model and MetalLB's replies come from its
speaker model on both sides, so only the datapath differs.
  --profile P    kube-ovn (default): OVN with Kube-OVN's northd patches written into the SB as logical flows
                 (the real ovn-controllers compile them); upstream: OVN as installed
  --ingress AT   where frames enter: outside (default) or NODE/POD
  --show N       how many differences to print in full (default 5)
  --snapshot DIR a collected cluster: the simulation runs its Southbound logical flows (ovn/sb.db or
                 ovn/lflows.txt) and br-provider flows as collected. The real cluster runs the snapshot's own
                 Northbound when it has ovn/nb.db (standalone or clustered; converted to the installed schema;
                 each pod bound to the logical port of its name, or of its MAC and IP; the localnet port's
                 network_name mapped to br-provider); its Kube-OVN patch flows are the collected Southbound rows
                 the installed ovn-northd does not write from that Northbound (written as collected, the rows
                 they replace deleted; with no collected Southbound flows, the patches vippath's northd
                 computes on that Northbound). Without ovn/nb.db the real cluster's Northbound is derived from the
                 Kubernetes objects and the patch flows are vippath's. Both sides get the snapshot's br-provider
                 flows (names resolved through br-provider.ports, put on the testbed's ports). The output says
                 which source the real side used ("real side: …"; --json: "realSide").
  --strict-lflows with --snapshot: refuse a Southbound whose flows use actions vippath does not model
                 (put_dhcp_opts, dns_lookup…: error UNSUPPORTED_LFLOW naming the flow) or fields it does not
                 (icmp4.frag_mtu…); without it the first load and a frame reaching one is dropped
                 (ovn.unmodelled-action), the second make vippath's northd flows run in the collected ones' place
  --real-northbound derived
                 with a snapshot's ovn/nb.db, build the real side from the Kubernetes objects all the same
                 (needed for --ready/--not-ready/--node-down: the real side's load balancers are rewritten as
                 vippath derives them)
  --json         {compared, real, simulated, differences: [{input, port, real, simulated}], excluded, events,
                 realSide: {northbound, patchFlows}}
  --keep         keep the testbed's run directory (logs, databases) and print where
${EVENT_USAGE}
                 (on both sides: the real node's switch port goes and comes back, its speaker stops; a readiness
                 change rewrites the real NB's load balancers, ovn-northd runs again and Kube-OVN's patch flows are
                 written anew; events at their simulated time, between the frames)
Needs Open vSwitch (≥ 3.1) and OVN (≥ 23.03) installed; nothing runs as a system service and nothing is left
running. Exit status: 0 no difference, 1 differences (or bad input), 2 usage, a snapshot that cannot be used
(BAD_SNAPSHOT, BAD_NORTHBOUND: e.g. an ovn/nb.db that is no OVSDB file; UNSUPPORTED_LFLOW: refused under
--strict-lflows), or OVS/OVN missing.`,
  async run(args, io) {
    // The testbed (≈ 80 KB of modules) is loaded by this command only: every other command's start skips it.
    const { CollectedNorthboundError, testbedUnavailable, verifyFrames } = await import('../testbed/index.js');
    const { files, rest: r1 } = manifestFiles(args);
    const { events, rest } = eventOptions(r1);
    const { flags, options, positionals } = parseArgs(rest, { flags: ['--json', '--keep'], options: ['--profile', '--ingress', '--show', '--real-northbound'] });
    if (positionals.length !== 1) throw new UsageError('give exactly one CAPTURE file');
    const profile = (options.get('--profile') ?? 'kube-ovn') as TestbedProfile;
    if (profile !== 'kube-ovn' && profile !== 'upstream') throw new UsageError('--profile must be kube-ovn or upstream');
    const show = Number(options.get('--show') ?? 5);
    if (!Number.isInteger(show) || show < 0) throw new UsageError('--show needs a whole number');
    const missing = testbedUnavailable();
    if (missing) {
      io.stderr(`vippath verify: ${missing}\n`);
      return 2;
    }
    let objects: K8sObject[];
    let cluster: ClusterSpec;
    try {
      ({ objects, cluster } = scenarioFrom(files));
    } catch (e) {
      // A refusal under --strict-lflows is a snapshot this run cannot use, not a difference (exit 1 says "they differ").
      if (!(e instanceof SnapshotError) && !(e instanceof LflowError && e.code === 'UNSUPPORTED_LFLOW')) throw e;
      io.stderr(`vippath verify: ${e.code}: ${e.message}\n`);
      return 2;
    }
    const snapshot = (files as ScenarioFiles).snapshot;
    const realNb = options.get('--real-northbound') ?? 'collected';
    if (realNb !== 'collected' && realNb !== 'derived') throw new UsageError('--real-northbound must be collected or derived');
    if (options.has('--real-northbound') && snapshot === undefined) throw new UsageError('--real-northbound goes with --snapshot DIR');
    const nbFile = snapshot !== undefined && realNb === 'collected' && existsSync(join(snapshot, 'ovn', 'nb.db')) ? join(snapshot, 'ovn', 'nb.db') : undefined;
    if (nbFile && events.length) throw new UsageError(`${events.map((e) => e.kind).join(', ')} rewrite the real side's load balancers as vippath derives them, which would write over the collected Northbound ${nbFile}: add --real-northbound derived`);
    const collectedFlows = nbFile ? cluster.southbound?.state.flows.get(subnetName(objects)) : undefined;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(positionals[0]!));
    } catch (e) {
      throw new UsageError(`cannot read ${positionals[0]}: ${(e as Error).message}`);
    }
    const records = readCaptureSync(bytes).records;
    const at = options.get('--ingress') ?? 'outside';
    // Only to sort the capture's frames (the client's are fed, the cluster's own are not).
    const probe = new SimulatedCluster(objects, cluster);
    if (at !== 'outside' && !probe.state.pods.some((p) => at === `${p.node}/${p.name}`)) throw new UsageError(`--ingress must be outside or NODE/POD (${probe.state.pods.map((p) => `${p.node}/${p.name}`).join(', ')})`);
    // Unknown nodes and pods are refused here, before a testbed is built for nothing.
    try {
      scheduleEvents(probe, events);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const frames: DriveFrame[] = [];
    const excluded: Record<string, number> = {};
    const t0 = records[0]?.timestamp ?? 0n;
    let lastTime = 0;
    records.forEach((r, i) => {
      const reason = r.linktype !== 1 ? 'not-ethernet' : probe.fromCluster(r.data) ? 'cluster-frame-in-capture' : undefined;
      if (reason) {
        excluded[reason] = (excluded[reason] ?? 0) + 1;
        return;
      }
      lastTime = Math.max(lastTime, Number(r.timestamp - t0) / 1e6);
      frames.push({ at, frame: r.data, time: lastTime, label: `record ${i + 1}` });
    });
    let result: Awaited<ReturnType<typeof verifyFrames>>;
    try {
      result = await verifyFrames(objects, cluster, frames, {
        profile, excluded, ...(nbFile ? { northbound: nbFile, ...(collectedFlows ? { collectedFlows } : {}) } : {}), keep: flags.has('--keep'), ...(flags.has('--keep') ? { log: (l: string) => io.stderr(`${l}\n`) } : {}),
        setup: (diff) => {
          for (const e of events) {
            if (e.kind === '--node-down') diff.nodeDown(e.target, e.at);
            else if (e.kind === '--node-up') diff.nodeUp(e.target, e.at);
            else diff.setPodReady(e.target, e.kind === '--ready', e.at);
          }
        },
      });
    } catch (e) {
      if (!(e instanceof CollectedNorthboundError)) throw e;
      io.stderr(`vippath verify: ${e.code}: ${e.message}\n`);
      return 2;
    }
    const timeline = result.events.filter((e) => e.kind !== 'garp');
    const t = result.totals;
    if (flags.has('--json')) {
      io.stdout(`${JSON.stringify({ compared: t.compared, real: t.real, simulated: t.simulated, differences: t.differences.map((d) => ({ input: d.input, label: d.label, port: d.port, position: d.position, real: d.real, simulated: d.simulated, realText: d.realText, simulatedText: d.simulatedText, ...(d.hint ? { hint: d.hint } : {}) })), excluded: t.excluded, events: timeline, realSide: result.source }, null, 2)}\n`);
    } else {
      for (const d of t.differences.slice(0, show)) io.stdout(differenceText(d));
      if (t.differences.length > show) io.stdout(`… ${t.differences.length - show} more difference(s) (--show N, --json)\n`);
      if (timeline.length) io.stdout(`events (simulated time; the real cluster was given the same):\n${timeline.map((e) => `  ${(e.time / 1000).toFixed(3).padStart(9)} s  ${e.text}`).join('\n')}\n`);
      const ex = Object.entries(t.excluded).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
      io.stdout(`${sourceText(result.source, profile)}\n`);
      io.stdout(`${frames.length} input frame(s), profile ${profile}: ${t.compared} frame(s) compared, real cluster sent ${t.real}, vippath ${t.simulated}; ${t.differences.length} difference(s) (first per port and input); excluded: ${ex}\n`);
      io.stdout(t.differences.length === 0 ? 'vippath and the real datapath agree, byte for byte.\n' : 'vippath and the real datapath differ.\n');
    }
    return t.differences.length === 0 ? 0 : 1;
  },
};
