import { ExternalClient, formatTraceLine, frameFromDescription, SimulatedCluster, traceLine } from '@vippath/cluster';
import { parseArgs, parseDuration, UsageError, type Command } from '../io.js';
import { manifestFiles, scenarioFrom } from './cluster.js';
import { EVENT_USAGE, eventOptions, scheduleEvents } from './events.js';

function hexFrame(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length === 0 || clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new UsageError('--hex needs an even number of hex digits (spaces and colons allowed)');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** `vippath trace`. */
export const traceCommand: Command = {
  name: 'trace',
  summary: 'follow one frame through the cluster, stage by stage (like ovn-trace; br-provider like ofproto/trace)',
  usage: `usage: vippath trace [DESCRIPTION | --hex HEX] [--ingress AT] [--at T] [--manifests FILE]… [--cluster FILE] [--defaults] [--snapshot DIR [--strict-lflows]] [--json]

DESCRIPTION is flow-like, comma-separated, in ovs-ofctl's words or short ones; what it leaves out is what the
external client would send (its MAC and IP, VLAN 341, the MAC the VIP resolves to, port 40000 → 80, SYN):
  vippath trace                                   # a SYN from the client to the first VIP
  vippath trace tcp,dst=10.180.204.252,dport=80,flags=S
  vippath trace tcp,nw_src=10.180.204.100,nw_dst=10.180.204.252,tp_dst=80,tcp_flags=S,dl_vlan=341
  vippath trace arp,dst=10.180.204.252            # who answers ARP for the VIP?
  vippath trace --hex 'ffffffffffff 525400aa0064 8100 0155 0806 …'
  --ingress AT  outside (default), NODE, NODE/underlay0, NODE/underlay0.341, NODE/br-provider, NODE/POD
                (from a pod, the description's defaults are the pod's: its MAC and IP, untagged, to the client)
  --at T        simulated time of the frame (after the events below); default 0
  --json        the trace line as trace.jsonl writes it
At every br-provider the frame crosses, the bridge's own steps follow as ovs-appctl ofproto/trace prints them:
each table's rule (match, priority, cookie), its actions, NORMAL's decisions and the datapath actions (in
--json: the stage's "openflow" object with rules, lines and datapathActions).
${EVENT_USAGE}`,
  async run(args, io) {
    const { files, rest: r1 } = manifestFiles(args);
    const { events, rest } = eventOptions(r1);
    const { flags, options, positionals } = parseArgs(rest, { flags: ['--json'], options: ['--hex', '--ingress', '--at'] });
    if (positionals.length > 1) throw new UsageError('give one description (no spaces; separate fields with commas)');
    const { objects, cluster } = scenarioFrom(files);
    const sim = new SimulatedCluster(objects, cluster);
    scheduleEvents(sim, events);
    const at = options.has('--at') ? parseDuration(options.get('--at')!, '--at') : 0;
    const ingress = options.get('--ingress') ?? 'outside';
    sim.checkIngress(ingress);
    const frame = options.has('--hex') ? hexFrame(options.get('--hex')!) : frameFromDescription(positionals[0] ?? '', sim, ingress);
    // Time runs to the frame first, so elections and announcements are settled and shown apart.
    sim.advance(at);
    const line = traceLine(1, at, ingress, frame, sim.inject(frame, at, ingress));
    io.stdout(flags.has('--json') ? `${JSON.stringify(line)}\n` : formatTraceLine(line));
    return 0;
  },
};

/** `vippath curl`. */
export const curlCommand: Command = {
  name: 'curl',
  summary: 'a simulated external client: ARP for the VIP, TCP handshake, HTTP GET, and what the pod saw',
  usage: `usage: vippath curl [URL] [--at T] [--repeat N] [--every T] [--manifests FILE]… [--cluster FILE] [--defaults] [--snapshot DIR [--strict-lflows]] [--json]

The seed document's check, simulated: the client on VLAN 341 resolves the VIP (MetalLB answers from the owner),
connects, sends GET and closes. Prints the frames it sent and got, the response, and the pod that served it with
the client address the pod saw (its access log: the real client IP, no SNAT). URL defaults to
http://<first VIP>/clientip. With --repeat, the same client (and ARP cache) asks again every --every (1 s).
  --at T        when the first request starts (simulated time); default 100ms
${EVENT_USAGE}
Exit status: 0 when every request got an HTTP response, 1 otherwise.`,
  async run(args, io) {
    const { files, rest: r1 } = manifestFiles(args);
    const { events, rest } = eventOptions(r1);
    const { flags, options, positionals } = parseArgs(rest, { flags: ['--json'], options: ['--at', '--repeat', '--every'] });
    const { objects, cluster } = scenarioFrom(files);
    const sim = new SimulatedCluster(objects, cluster);
    scheduleEvents(sim, events);
    const vip = sim.state.services.flatMap((s) => s.ingress)[0];
    const url = positionals[0] ?? (vip ? `http://${vip}/clientip` : undefined);
    if (!url) throw new UsageError('no URL given and the scenario has no VIP');
    const m = /^(?:http:\/\/)?(\d+\.\d+\.\d+\.\d+)(?::(\d+))?(\/[^\s]*)?$/.exec(url);
    if (!m) throw new UsageError(`"${url}" is not http://IPv4[:port][/path]`);
    if (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) throw new UsageError(`port ${m[2]} in "${url}" is out of range: a TCP port is 1 to 65535`);
    const repeat = Number(options.get('--repeat') ?? 1);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100000) throw new UsageError('--repeat needs a whole number from 1 to 100000');
    const every = parseDuration(options.get('--every') ?? '1s', '--every');
    let at = parseDuration(options.get('--at') ?? '100ms', '--at');
    const client = new ExternalClient(sim);
    const results = [];
    let failures = 0;
    for (let i = 0; i < repeat; i++) {
      const r = client.curl({ ip: m[1]!, port: m[2] ? Number(m[2]) : 80, path: m[3] ?? '/' }, at);
      results.push(r);
      if (!r.ok) failures++;
      if (!flags.has('--json')) {
        const lines = [`* ${(at / 1000).toFixed(3)} s  GET ${url}`];
        if (r.arp) lines.push(`* ${m[1]} is at ${r.arp.mac}${r.arp.node ? ` (${r.arp.node}'s NIC)` : ''}${r.arp.fromCache ? ' (ARP cache)' : ''}`);
        for (const t of r.transcript) lines.push(`${t.dir} ${t.flow}`);
        if (r.ok) lines.push(`< HTTP ${r.response!.status}: ${r.response!.body}`);
        else lines.push(`curl: ${r.error}`);
        if (r.servedBy) lines.push(`* served by ${r.servedBy.pod} on ${r.servedBy.node}; its access log shows client ${r.servedBy.client}`);
        io.stdout(`${lines.join('\n')}\n\n`);
      }
      at = Math.max(r.end, at + every);
    }
    if (flags.has('--json')) io.stdout(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
    else if (events.length) io.stdout(`events:\n${sim.timeline().map((e) => `  ${(e.time / 1000).toFixed(3).padStart(9)} s  ${e.text}`).join('\n')}\n`);
    return failures ? 1 : 0;
  },
};
