/**
 * Replaying a capture through the simulated cluster: every frame the capture's client sent enters from the
 * outside of the wire at its capture time (simulated time starts at the first frame); frames the capture shows
 * the cluster sending are skipped (the simulation produces its own) and counted. The summary says what the
 * seed document's figure says: who answered ARP, which pods served, what the client got back.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileSink, PcapngWriter, scanCapture, type ByteSink, type CaptureSource } from '@vippath/pcap';
import { copyBytes, DecodedFrame, FrameDecoder, formatIPv4, formatMac, L3 } from '@vippath/wire';
import type { K8sObject } from './manifests.js';
import type { ClusterSpec } from './scenario.js';
import { SimulatedCluster } from './simulation.js';

/** What a replay did. */
export interface ReplaySummary {
  framesRead: number;
  injected: number;
  skippedFromCluster: number;
  skippedNotEthernet: number;
  toClient: { frames: number; arpRepliesBy: Record<string, number>; gratuitousArpBy: Record<string, number>; tcpFromVip: number; tcpFromPodIp: number; untagged: number };
  servedBy: Record<string, { node: string; requests: number; clients: string[] }>;
  drops: Record<string, number>;
  services: Array<{ name: string; ingress: string[]; owners: Record<string, string[]> }>;
}

/**
 * Replays a capture (path, `-`, or stream) through the cluster. With `outDir`, writes `wire.pcapng` (every frame
 * on the physical segment as tagged on the wire, one interface for the outside and one per node NIC),
 * `trace.jsonl` (one line per injected frame: its hops and drops) and `summary.json` — each written to a temporary
 * name and renamed when complete, so a failed run leaves earlier outputs alone.
 */
export async function replayCapture(source: CaptureSource, objects: K8sObject[], cluster: ClusterSpec, options: { outDir?: string } = {}): Promise<{ summary: ReplaySummary; sim: SimulatedCluster }> {
  const sim = new SimulatedCluster(objects, cluster);
  let wire: PcapngWriter | undefined;
  let trace: ByteSink | undefined;
  const ifaces = ['outside', ...cluster.nodes.map((n) => n.name)];
  let epochNs = 0n;
  if (options.outDir) {
    mkdirSync(options.outDir, { recursive: true });
    wire = new PcapngWriter(join(options.outDir, 'wire.pcapng'), ifaces.map((n) => ({ name: n === 'outside' ? 'outside' : `${n}/${cluster.nodes.find((x) => x.name === n)!.nic}` })));
    trace = fileSink(join(options.outDir, 'trace.jsonl'));
    sim.onWire = (from, frame, now) => wire!.write({ timestamp: epochNs + BigInt(Math.round(now * 1e6)), data: frame, interfaceId: ifaces.indexOf(from) });
  }
  const encoder = new TextEncoder();
  const vips = new Set(sim.state.services.flatMap((s) => s.ingress));
  const podIps = new Set(sim.state.pods.map((p) => p.ip));
  const summary: ReplaySummary = {
    framesRead: 0, injected: 0, skippedFromCluster: 0, skippedNotEthernet: 0,
    toClient: { frames: 0, arpRepliesBy: {}, gratuitousArpBy: {}, tcpFromVip: 0, tcpFromPodIp: 0, untagged: 0 },
    servedBy: {}, drops: {}, services: sim.state.services.map((s) => ({ name: s.name, ingress: s.ingress, owners: s.owners })),
  };
  const decoder = new FrameDecoder();
  const d = new DecodedFrame();
  let t0: number | undefined;
  await scanCapture(source, (rec) => {
    summary.framesRead++;
    if (rec.linktype !== 1) {
      summary.skippedNotEthernet++;
      return;
    }
    const frame = copyBytes(rec.buffer, rec.dataOffset, rec.dataOffset + rec.captureLength);
    if (sim.fromCluster(frame)) {
      summary.skippedFromCluster++;
      return;
    }
    const ms = rec.seconds * 1000 + rec.nanos / 1e6;
    if (t0 === undefined) {
      t0 = ms;
      epochNs = BigInt(rec.seconds) * 1_000_000_000n + BigInt(rec.nanos);
    }
    summary.injected++;
    const result = sim.inject(frame, ms - t0);
    trace?.write(encoder.encode(`${JSON.stringify({ index: summary.framesRead, time: ms - t0, hops: result.hops, drops: result.drops, toClient: result.outside.length })}\n`));
    for (const out of result.outside) {
      summary.toClient.frames++;
      decoder.decode(out, d);
      if (d.vlanCount === 0) summary.toClient.untagged++;
      if (d.l3 === L3.ARP && vips.has(formatIPv4(d.arpSpa))) {
        const mac = formatMac(out, 6);
        // Broadcast ARP with SPA = TPA = VIP is MetalLB's gratuitous announcement; a unicast reply answers a request.
        const table = out[0] === 0xff && d.arpTpa === d.arpSpa ? summary.toClient.gratuitousArpBy : d.arpOp === 2 ? summary.toClient.arpRepliesBy : undefined;
        if (table) table[mac] = (table[mac] ?? 0) + 1;
      }
      if (d.l3 === L3.IPV4 && d.ipProto === 6) {
        if (vips.has(formatIPv4(d.ipSrc))) summary.toClient.tcpFromVip++;
        else if (podIps.has(formatIPv4(d.ipSrc))) summary.toClient.tcpFromPodIp++;
      }
    }
  });
  for (const p of sim.pods.values()) {
    if (p.log.length) summary.servedBy[p.pod.name] = { node: p.pod.node, requests: p.log.length, clients: [...new Set(p.log.map((l) => l.client.split(':')[0]!))] };
  }
  summary.drops = Object.fromEntries(sim.dropCounts);
  if (options.outDir) {
    await wire!.close();
    await trace!.close();
    const sink = fileSink(join(options.outDir, 'summary.json'));
    sink.write(encoder.encode(`${JSON.stringify(summary, null, 2)}\n`));
    await sink.close();
  }
  return { summary, sim };
}
