/**
 * Properties of users' own flow tables, without the rest of the cluster: load `ovs-ofctl` text into a bridge
 * (which behaves as ovs-vswitchd does — see @vippath/openflow), drive generated packets through it, and when a
 * property fails, write the minimal counterexample as a pcap plus the flows, and print the `vippath of trace`
 * command that replays it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { Bridge, Port, trace as traceBridge, type BridgeOutput, type BridgePort, type ProcessResult } from '@vippath/openflow';
import { PcapWriter } from '@vippath/pcap';
import { VippathError } from '@vippath/wire';
import type { GeneratedFrame } from './frames.js';

/** A property over one packet's fate. Return false or throw to fail. */
export type PacketProperty = (packet: GeneratedFrame, inPort: number, result: ProcessResult) => boolean | void;

/** Options of {@link checkFlowTable}. */
export interface FlowCheckOptions {
  /** ovs-ofctl add-flows or dump-flows text. */
  flows: string;
  ports: BridgePort[];
  /** Where packets enter (default: every port). */
  inPorts?: number[];
  packets: fc.Arbitrary<GeneratedFrame>;
  property: PacketProperty;
  /** fast-check parameters (seed, numRuns…). Default numRuns 500, or VIPPATH_PROPERTY_RUNS. */
  parameters?: fc.Parameters<[GeneratedFrame, number]>;
  /** Directory for counterexample files (default `vippath-counterexamples`). */
  outDir?: string;
}

/** A failed flow-table property, with what reproduces it. */
export class FlowPropertyError extends VippathError {
  readonly counterexample: { inPort: number; packetHex: string; outputs: BridgeOutput[] };
  readonly files: { pcap: string; flows: string };
  readonly replay: string;
  constructor(message: string, counterexample: FlowPropertyError['counterexample'], files: FlowPropertyError['files'], replay: string) {
    super('PROPERTY_FAILED', message);
    this.counterexample = counterexample;
    this.files = files;
    this.replay = replay;
  }
}

/** Runs the property over generated packets; throws {@link FlowPropertyError} with a replayable counterexample. */
export function checkFlowTable(options: FlowCheckOptions): { runs: number; seed: number } {
  const inPorts = options.inPorts ?? options.ports.map((p) => p.ofport);
  const runs = options.parameters?.numRuns ?? Number(process.env.VIPPATH_PROPERTY_RUNS ?? 500);
  const seed = options.parameters?.seed ?? (Date.now() % 2 ** 31);
  const fresh = (): Bridge => {
    const br = new Bridge('br0', options.ports);
    br.addFlows(options.flows);
    return br;
  };
  fresh(); // flow text errors surface here, before any generation
  const details = fc.check(
    fc.property(options.packets, fc.constantFrom(...inPorts), (packet, inPort) => {
      const result = fresh().process(packet.bytes, inPort);
      return options.property(packet, inPort, result) !== false;
    }),
    { ...options.parameters, numRuns: runs, seed },
  );
  if (!details.failed || !details.counterexample) return { runs: details.numRuns, seed };
  const [packet, inPort] = details.counterexample;
  const { result, text } = traceBridge(fresh(), packet.bytes, inPort);
  const dir = resolve(options.outDir ?? 'vippath-counterexamples');
  mkdirSync(dir, { recursive: true });
  const stamp = `seed-${seed}`;
  const pcap = join(dir, `${stamp}.pcap`);
  const flows = join(dir, `${stamp}.flows`);
  writeFileSync(flows, options.flows.endsWith('\n') ? options.flows : `${options.flows}\n`);
  const w = new PcapWriter(pcap);
  w.write({ timestamp: 0n, data: packet.bytes });
  void w.close();
  const hex = Buffer.from(packet.bytes).toString('hex');
  const portsArg = options.ports.map((p) => `${p.name}=${p.ofport}`).join(',');
  const replay = `npx vippath of trace --flows ${flows} --ports ${portsArg} --in-port ${inPort === Port.LOCAL ? 'LOCAL' : inPort} --packet ${hex}`;
  const message = [
    `flow-table property failed after ${details.numRuns} packets (seed ${seed}, shrunk ${details.numShrinks} times)`,
    `in_port ${inPort}, packet ${hex}`,
    `outputs: ${result.outputs.map((o) => (o.port === Port.LOCAL ? 'LOCAL' : o.port)).join(', ') || 'none (dropped)'}`,
    '',
    text,
    `counterexample: ${pcap} (flows: ${flows})`,
    `replay: ${replay}`,
  ].join('\n');
  throw new FlowPropertyError(message, { inPort, packetHex: hex, outputs: result.outputs }, { pcap, flows }, replay);
}

/** Invariant: the packet never leaves through `port` (e.g. LOCAL, the host stack). */
export const neverOutputsTo = (port: number): PacketProperty => (_p, _i, r) => !r.outputs.some((o) => o.port === port);

/** Invariant: the packet leaves through exactly these ports (in any order). */
export const outputsExactly = (ports: number[]): PacketProperty => (_p, _i, r) => {
  const got = r.outputs.map((o) => o.port).sort((a, b) => a - b);
  return JSON.stringify(got) === JSON.stringify([...ports].sort((a, b) => a - b));
};

/** Invariant: no output carries a VLAN tag other than `vid` (or none). */
export const onlyVlan = (vid: number): PacketProperty => (_p, _i, r) =>
  r.outputs.every((o) => {
    const tpid = (o.packet[12]! << 8) | o.packet[13]!;
    return !(tpid === 0x8100 || tpid === 0x88a8) || (((o.packet[14]! << 8) | o.packet[15]!) & 0xfff) === vid;
  });
