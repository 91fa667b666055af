import { existsSync, readFileSync } from 'node:fs';
import { Bridge, formatTrace, parseFlow, parseShowPorts, Port, Slot, type TraceStep } from '@vippath/openflow';
import { buildFrame, formatIPv4, formatMac, type FrameSpec } from '@vippath/wire';
import { parseArgs, UsageError, type Command } from '../io.js';

function readText(path: string): string {
  try {
    return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * --ports: `NAME=OFPORT,…`, or a file of `ovs-ofctl show` text (a snapshot's br-provider.ports). Without it, a
 * `<flows>.ports` file beside the flows file is read when there is one.
 */
function parsePorts(text: string | undefined, flowsPath: string): Array<{ name: string; ofport: number }> {
  if (!text) {
    const beside = flowsPath === '-' ? undefined : flowsPath.replace(/\.[^./]*$/, '') + '.ports';
    return beside && beside !== flowsPath && existsSync(beside) ? parseShowPorts(readText(beside)) : [];
  }
  if (!text.includes('=')) {
    const ports = parseShowPorts(readText(text));
    if (ports.length === 0) throw new UsageError(`--ports: ${text} holds no ports as ovs-ofctl show prints them (" 1(name): addr:…")`);
    return ports;
  }
  return text.split(',').map((item) => {
    const [name, num] = item.split('=');
    const ofport = Number(num);
    if (!name || !Number.isInteger(ofport) || ofport <= 0) throw new UsageError(`--ports: "${item}" is not NAME=OFPORT`);
    return { name, ofport };
  });
}

/**
 * A packet from an ofproto/trace-style microflow (`in_port=1,tcp,dl_src=…,nw_dst=…,tp_dst=80`): the flow is
 * parsed with the match parser, and a frame with those header values is built.
 */
function packetFromMicroflow(text: string, ports: ReadonlyMap<string, number>): { inPort: number; frame: Uint8Array } {
  const flow = parseFlow(`${text},actions=drop`, 1, { ports });
  if (!flow) throw new UsageError('--flow is empty');
  const v = new Map(flow.match.map((m) => [m.slot, m.value]));
  const mac = (hi: number, dflt: string): string => (v.has(hi) ? formatMac(Uint8Array.of(v.get(hi)! >> 8, v.get(hi)! & 0xff, v.get(hi + 1)! >>> 24, (v.get(hi + 1)! >>> 16) & 0xff, (v.get(hi + 1)! >>> 8) & 0xff, v.get(hi + 1)! & 0xff)) : dflt);
  const inPort = v.get(Slot.IN_PORT);
  if (inPort === undefined) throw new UsageError('--flow needs in_port=… (or give --in-port)');
  const spec: FrameSpec = { dst: mac(Slot.DL_DST_HI, '00:00:00:00:00:00'), src: mac(Slot.DL_SRC_HI, '00:00:00:00:00:00') };
  const tci = v.get(Slot.VLAN_TCI);
  if (tci !== undefined && tci & 0x1000) spec.vlans = [{ tpid: 0x8100, pcp: tci >> 13, dei: 0, vid: tci & 0xfff }];
  const dlType = v.get(Slot.DL_TYPE);
  const proto = v.get(Slot.NW_PROTO);
  const sport = v.get(Slot.TP_SRC) ?? 0;
  const dport = v.get(Slot.TP_DST) ?? 0;
  if (dlType === 0x0806) {
    spec.arp = { op: proto ?? 1, senderMac: mac(Slot.ARP_SHA_HI, spec.src), senderIp: formatIPv4(v.get(Slot.NW_SRC) ?? 0), targetMac: mac(Slot.ARP_THA_HI, '00:00:00:00:00:00'), targetIp: formatIPv4(v.get(Slot.NW_DST) ?? 0) };
  } else if (dlType === 0x0800) {
    spec.ipv4 = { src: formatIPv4(v.get(Slot.NW_SRC) ?? 0), dst: formatIPv4(v.get(Slot.NW_DST) ?? 0), ttl: v.get(Slot.NW_TTL) ?? 64, tos: v.get(Slot.NW_TOS) ?? 0 };
    if (proto === 6) spec.tcp = { srcPort: sport, dstPort: dport, flags: v.get(Slot.TCP_FLAGS) ?? 0x002 };
    else if (proto === 17) spec.udp = { srcPort: sport, dstPort: dport };
    else if (proto === 1) spec.icmp = { type: sport, code: dport, body: new Uint8Array(4) };
  } else if (dlType !== undefined && dlType !== 0x86dd) {
    spec.ethertype = dlType;
  } else if (dlType === 0x86dd) {
    throw new UsageError('--flow with ipv6: give the packet as --packet HEX');
  }
  return { inPort, frame: buildFrame(spec) };
}

const usage = `usage: vippath of trace --flows FILE [--ports NAME=OFPORT,…|PORTS_FILE] (--packet HEX --in-port PORT | --flow MICROFLOW) [--json]
       vippath of dump --flows FILE [--ports NAME=OFPORT,…|PORTS_FILE]

An OpenFlow bridge with the listed ports plus LOCAL, loaded with FILE (ovs-ofctl add-flows or dump-flows text,
with --names or as a terminal shows it: quoted names, names cut to 15 characters). The ports come from --ports,
as NAME=OFPORT pairs or an \`ovs-ofctl show\` text file, else from FILE's sibling with the extension .ports
(a snapshot's br-provider.flows → br-provider.ports).
  trace  the ofproto/trace-like story of one packet: table, matched flow, each action, outputs;
         --flow takes ofproto/trace's microflow syntax (in_port=1,tcp,nw_dst=…,tp_dst=80);
         --json prints { "outputs": [{ "port", "packet" }], "drop", "error"?, "steps" }; like OVS, a
         translation stops (and drops the packet) past 64 nested or 4 096 resubmits in all
  dump   the flows, normalized as ovs-ofctl dump-flows prints them`;

/** `vippath of trace|dump`. */
export const ofCommand: Command = {
  name: 'of',
  summary: 'the br-provider OpenFlow bridge: trace a packet through flows, or dump them normalized',
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'trace' && sub !== 'dump') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (trace or dump)');
    const { flags, options } = parseArgs(rest, { flags: ['--json'], options: ['--flows', '--ports', '--in-port', '--packet', '--flow'] });
    const flowsPath = options.get('--flows');
    if (!flowsPath) throw new UsageError('--flows FILE is required');
    const bridge = new Bridge('br0', parsePorts(options.get('--ports'), flowsPath));
    bridge.addFlows(readText(flowsPath));
    if (sub === 'dump') {
      io.stdout(bridge.dumpFlows({ stats: false }));
      return 0;
    }
    let inPort: number;
    let frame: Uint8Array;
    const names = bridge.portNames;
    const portOf = (t: string): number => (t === 'LOCAL' ? Port.LOCAL : names.get(t) ?? (/^\d+$/.test(t) ? Number(t) : NaN));
    if (options.has('--packet')) {
      const hex = options.get('--packet')!.replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new UsageError('--packet must be hex bytes');
      frame = Uint8Array.from(Buffer.from(hex, 'hex'));
      const p = options.get('--in-port');
      if (p === undefined) throw new UsageError('--packet needs --in-port');
      inPort = portOf(p);
    } else if (options.has('--flow')) {
      ({ inPort, frame } = packetFromMicroflow(options.get('--flow')!, names));
      if (options.has('--in-port')) inPort = portOf(options.get('--in-port')!);
    } else throw new UsageError('give the packet as --packet HEX or --flow MICROFLOW');
    if (Number.isNaN(inPort)) throw new UsageError(`unknown in_port "${options.get('--in-port')}"`);
    const steps: TraceStep[] = [];
    // ofproto/trace learns MACs from a packet given as hex, not from a microflow (checked with ovs-vswitchd 3.1).
    const result = bridge.process(frame, inPort, { trace: steps, learn: !options.has('--flow') });
    if (flags.has('--json')) {
      io.stdout(`${JSON.stringify({ outputs: result.outputs.map((o) => ({ port: o.port === Port.LOCAL ? 'LOCAL' : o.port, packet: Buffer.from(o.packet).toString('hex') })), drop: result.drop, ...(result.error ? { error: result.error } : {}), controller: result.controller, steps })}\n`);
    } else io.stdout(formatTrace('br0', steps, result));
    return 0;
  },
};
