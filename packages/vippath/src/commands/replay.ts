import { statSync } from 'node:fs';
import { replayCapture, TRACE_LEVELS, unmatchedPortPatterns, type ReplaySummary, type TraceLevel } from '@vippath/cluster';
import { parseArgs, Progress, shown, UsageError, type Command } from '../io.js';
import { scenarioFrom, manifestFiles } from './cluster.js';
import { EVENT_USAGE, eventOptions, scheduleEvents } from './events.js';

/** How many entries a list in the text shows before it says how many more there are. */
const SHOWN = 5;

/** `a ×n, b ×m, …` for the first entries of a list (largest first), then how many more there are. */
function topText(entries: Array<[string, number]>, total = entries.length): string {
  const shown = entries.slice(0, SHOWN).map(([k, n]) => `${k} ×${n}`).join(', ');
  return total > SHOWN ? `${shown}, … (${total - SHOWN} more)` : shown;
}

/**
 * The summary in words: the seed document's figure 1, told by what the replay did. Lists are bounded: the most
 * frequent entries with counts and how many more there are, never every client on one line.
 */
export function summaryText(summary: ReplaySummary): string {
  const lines: string[] = [];
  for (const s of summary.services) for (const ip of s.ingress) lines.push(`service ${shown(s.name)}: VIP ${ip}, announced by ${s.owners[ip]?.map(shown).join(', ') || 'nobody'} (MetalLB L2)`);
  lines.push(`frames: ${summary.framesRead} read, ${summary.injected} sent by the client into the wire (${summary.flowsCapped ? `at least ${summary.flows}` : summary.flows} flows), ${summary.skippedFromCluster} skipped (the cluster's own replies in the capture)${summary.skippedNotEthernet ? `, ${summary.skippedNotEthernet} not Ethernet` : ''}${summary.timestampsClamped ? `; ${summary.timestampsClamped} with a timestamp beyond 2^53 ms after the first entered at the previous frame's time` : ''}`);
  const byCount = (r: Record<string, number>): Array<[string, number]> => Object.entries(r).sort((a, b) => b[1] - a[1]);
  const arp = topText(byCount(summary.toClient.arpRepliesBy));
  const garp = topText(byCount(summary.toClient.gratuitousArpBy));
  lines.push(`ARP for the VIP answered by: ${arp || 'nobody'}; gratuitous ARP from: ${garp || 'nobody'}`);
  for (const [pod, s] of Object.entries(summary.servedBy)) {
    const n = s.clients.length + (s.otherClientRequests ? 1 : 0);
    const seen = n <= SHOWN ? `client address seen: ${s.clients.map(shown).join(', ')}${s.otherClientRequests ? ` and others (${s.otherClientRequests} requests)` : ''}` : s.otherClientRequests ? `over ${s.clients.length} client addresses seen, ${s.clients.length} of them listed (${s.otherClientRequests} requests from the others): ${s.clients.slice(0, SHOWN).map(shown).join(', ')}, …` : `${s.clients.length} client addresses seen: ${s.clients.slice(0, SHOWN).map(shown).join(', ')}, …`;
    lines.push(`served by ${shown(pod)} on ${shown(s.node)}: ${s.requests} request(s), ${seen} (no SNAT)`);
  }
  const clients = summary.clients;
  if (clients && clients.addresses > SHOWN) lines.push(`clients: ${clients.addressesCapped ? 'over ' : ''}${clients.addresses} addresses; most frames: ${topText(clients.top.map((c) => [shown(c.address), c.frames]), clients.addresses)}`);
  const backends = Object.entries(summary.backends).map(([node, pods]) => `${shown(node)}: ${topText(byCount(pods).map(([p, k]) => [shown(p), k]))}`).join('; ');
  lines.push(`new connections by backend: ${backends || 'none'}`);
  lines.push(`back to the client: ${summary.toClient.frames} frames, TCP from the VIP ${summary.toClient.tcpFromVip}, from a pod IP ${summary.toClient.tcpFromPodIp}, untagged ${summary.toClient.untagged}`);
  const v = summary.verdicts;
  lines.push(`verdicts: ${v.delivered} delivered to a pod, ${v.answered} answered by MetalLB, ${v.forwarded} forwarded, ${v.dropped} dropped, ${v.skipped} skipped`);
  const drops = Object.entries(summary.drops).sort((a, b) => b[1] - a[1]).map(([r, n]) => `  ${String(n).padStart(6)}  ${shown(r)}`);
  lines.push(drops.length ? `drops (copies of frames, by reason):\n${drops.join('\n')}` : 'drops: none');
  if (summary.events.length) lines.push(`events:\n${summary.events.map((e) => `  ${(e.time / 1000).toFixed(3).padStart(9)} s  ${shown(e.text)}`).join('\n')}`);
  const s = summary.stages;
  lines.push(`path: client → wire (${s.wire}) → underlay0.341 untag/tag (${s['underlay0.341']}) → MetalLB on br-provider LOCAL (${s.metallb}) → br-provider flows (${s['br-provider']}) → OVN underlay-subnet (${s.ovn}) → LB DNAT / un-DNAT (${s['lb-dnat']}) → pods (${s.pod}); host stack (${s.host})`);
  return `${lines.join('\n')}\n`;
}

/** `vippath replay`. */
export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay a capture through the simulated cluster (default scenario, or your manifests) and summarise the path',
  usage: `usage: vippath replay FILE|--pcap FILE [--manifests FILE]… [--cluster FILE] [--defaults] [--snapshot DIR [--strict-lflows]] [--out DIR] [--report FILE] [--json] [options]

Every frame the capture's client sent enters the wire from the outside at its capture time: underlay0.341 →
MetalLB on br-provider → br-provider flows → OVN (LB DNAT, prefer-local) → pods, and back. Frames the capture shows
the cluster sending are skipped (the simulation makes its own). Prints who answered ARP for the VIP, which pods
served (with the client addresses they saw), what the client got back, and drops by reason. FILE may be - (stdin).
  --out DIR      also write DIR/wire.pcapng (every frame on the segment, one interface per NIC and one for the
                 outside), DIR/trace.jsonl (see --trace), DIR/summary.json, and with --capture-ports
                 DIR/nodes.pcapng (one interface per selected node port or pod, named <node>/<port>). A file this
                 run does not write (nodes.pcapng, trace.jsonl with --trace none) is removed from DIR
  --trace LEVEL  what DIR/trace.jsonl says per frame: summary (default: the record's index, its verdict, the
                 pods or outside its copies reached, drops counted by code — about 80 bytes), detailed (every
                 step of every frame and the bytes of each frame it caused — several KB), none (no file)
  --capture-ports LIST   the node ports DIR/nodes.pcapng records, comma-separated: none (default), pods (every
                 pod's interface), all, a node (all its ports), or NODE/PORT with * for any name (node1/*,
                 */underlay0.341, */br-provider). Default outputs stay within 3× the capture's bytes on HTTP
                 traffic; pods add about 2×, all ports about 9×
  --report FILE  also write a self-contained HTML report: the path diagram with frame counts, drops, backends,
                 timeline and a searchable table of frames (the first --report-frames, default 5 000) with
                 each one's stages
  --report-frames N  how many frames the report's table holds
  --ingress AT   where frames enter: outside (default), NODE (its NIC, tagged), NODE/underlay0.341 (untagged),
                 NODE/br-provider (LOCAL) or NODE/POD (sent by that pod)
  --include-cluster-frames   inject also the frames whose source MAC is the cluster's
  --skip-errors  skip corrupt records (counted) instead of stopping at the first
  --json         print summary.json instead of the text
${EVENT_USAGE}
Outputs are written whole: each to a temporary beside it, all renamed together when the run is complete. An
output that is an input, another output, a directory, a FIFO or a device is refused before anything is read.
Ctrl-C (SIGINT) or SIGTERM removes the temporaries and leaves earlier outputs as they were.
Exit status: 0 done, 1 bad input (the frames before it are summarised), 2 usage, 130/143 interrupted.`,
  async run(args, io) {
    const { files, rest: r1 } = manifestFiles(args);
    const { events, rest } = eventOptions(r1);
    const { flags, options, positionals } = parseArgs(rest, { flags: ['--json', '--include-cluster-frames', '--skip-errors'], options: ['--out', '--ingress', '--pcap', '--report', '--report-frames', '--trace', '--capture-ports'] });
    const trace = options.get('--trace') as TraceLevel | undefined;
    if (trace !== undefined && !TRACE_LEVELS.includes(trace)) throw new UsageError(`--trace ${trace}: use ${TRACE_LEVELS.join(', ')}`);
    const capturePorts = options.get('--capture-ports')?.split(',').map((p) => p.trim()).filter(Boolean);
    if (capturePorts && capturePorts.length === 0) throw new UsageError('--capture-ports needs a list (pods, all, none, NODE, NODE/PORT)');
    if ((trace !== undefined || capturePorts) && !options.has('--out')) throw new UsageError(`${trace !== undefined ? '--trace' : '--capture-ports'} says what --out DIR holds: give --out DIR too`);
    const pcap = options.get('--pcap');
    if (pcap !== undefined) positionals.push(pcap);
    if (positionals.length !== 1) throw new UsageError('give exactly one capture FILE (- for standard input), as an argument or with --pcap');
    const file = positionals[0]!;
    const { objects, cluster } = scenarioFrom(files);
    let size: number | undefined;
    try {
      size = file === '-' ? undefined : statSync(file).size;
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    const progress = new Progress(io, size);
    const outDir = options.get('--out');
    const ingress = options.get('--ingress');
    const report = options.get('--report');
    const reportFrames = options.has('--report-frames') ? Number(options.get('--report-frames')) : undefined;
    if (reportFrames !== undefined && (!Number.isInteger(reportFrames) || reportFrames < 0)) throw new UsageError('--report-frames needs a whole number');
    let summary: ReplaySummary;
    try {
      ({ summary } = await replayCapture(file, objects, cluster, {
        ...(outDir ? { outDir } : {}),
        ...(ingress ? { ingress } : {}),
        ...(report ? { report } : {}),
        ...(reportFrames !== undefined ? { reportFrames } : {}),
        includeClusterFrames: flags.has('--include-cluster-frames'),
        onError: flags.has('--skip-errors') ? 'skip' : 'stop',
        onProgress: (frames, bytes) => progress.update(frames, bytes),
        ...(trace ? { trace } : {}),
        ...(capturePorts ? { capturePorts } : {}),
        setup: (sim) => {
          if (capturePorts) {
            // A misspelt port records nothing: say so before the run rather than leave an empty capture.
            const pods = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
            const unknown = unmatchedPortPatterns(capturePorts, sim.portNames(), pods);
            if (unknown.length) throw new UsageError(`--capture-ports: ${unknown.join(', ')} names no port (ports are NODE/PORT: ${sim.portNames().slice(0, 6).join(', ')}, …)`);
          }
          scheduleEvents(sim, events);
        },
        inputs: files,
      }));
    } catch (e) {
      progress.done();
      const partial = (e as { partial?: ReplaySummary }).partial;
      const cut = (e as { code?: string }).code === 'TRUNCATED_CAPTURE';
      if (partial && cut) io.stderr(`vippath replay: stopped after ${partial.framesRead} frames; what was read is summarised${outDir || report ? ` and written (${[outDir, report].filter(Boolean).join(', ')})` : ''}\n${summaryText(partial)}`);
      else if (partial && (outDir || report)) io.stderr(`vippath replay: stopped after ${partial.framesRead} frames; earlier outputs in ${[outDir, report].filter(Boolean).join(', ')} are left as they were\n`);
      throw e;
    }
    progress.done();
    io.stdout(flags.has('--json') ? `${JSON.stringify(summary, null, 2)}\n` : summaryText(summary));
    if (report && !flags.has('--json')) io.stdout(`report: ${report}\n`);
    return 0;
  },
};
