import { DEFAULT_CLUSTER, replayCapture } from '@vippath/cluster';
import { UsageError, type Command } from '../io.js';
import { manifestFiles, objectsFrom } from './cluster.js';

/** `vippath replay`. */
export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay a capture through the simulated cluster (default scenario, or your manifests) and summarise the path',
  usage: `usage: vippath replay FILE [--manifests FILE]… [--out DIR] [--json]

Every frame the capture's client sent enters the wire from the outside at its capture time: underlay0.341 →
MetalLB on br-provider → br-provider flows → OVN (LB DNAT, prefer-local) → pods, and back. Frames the capture shows
the cluster sending are skipped (the simulation makes its own). Prints who answered ARP for the VIP, which pods
served (with the client addresses they saw), what the client got back, and drops by reason.
  --out DIR  also write DIR/wire.pcapng (every frame on the segment, one interface per NIC and one for the
             outside), DIR/trace.jsonl (each injected frame's hops) and DIR/summary.json`,
  async run(args, io) {
    const { files, rest } = manifestFiles(args);
    const positionals: string[] = [];
    let json = false;
    let outDir: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--out') {
        outDir = rest[++i];
        if (!outDir) throw new UsageError('--out needs a directory');
      } else if (a === '--json') json = true;
      else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
      else positionals.push(a);
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one capture FILE (- for standard input)');
    const objects = objectsFrom(files);
    const { summary } = await replayCapture(positionals[0]!, objects, DEFAULT_CLUSTER, outDir ? { outDir } : {});
    if (json) {
      io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    const lines: string[] = [];
    for (const s of summary.services) for (const ip of s.ingress) lines.push(`service ${s.name}: VIP ${ip}, announced by ${s.owners[ip]?.join(', ') || 'nobody'} (MetalLB L2)`);
    lines.push(`frames: ${summary.framesRead} read, ${summary.injected} sent by the client into the wire, ${summary.skippedFromCluster} skipped (the cluster's own replies in the capture)`);
    const arp = Object.entries(summary.toClient.arpRepliesBy).map(([mac, n]) => `${mac} ×${n}`).join(', ');
    const garp = Object.entries(summary.toClient.gratuitousArpBy).map(([mac, n]) => `${mac} ×${n}`).join(', ');
    lines.push(`ARP for the VIP answered by: ${arp || 'nobody'}; gratuitous ARP from: ${garp || 'nobody'}`);
    for (const [pod, s] of Object.entries(summary.servedBy)) lines.push(`served by ${pod} on ${s.node}: ${s.requests} request(s), client address seen: ${s.clients.join(', ')} (no SNAT)`);
    lines.push(`back to the client: ${summary.toClient.frames} frames, TCP from the VIP ${summary.toClient.tcpFromVip}, from a pod IP ${summary.toClient.tcpFromPodIp}, untagged ${summary.toClient.untagged}`);
    const drops = Object.entries(summary.drops).map(([r, n]) => `${r} ×${n}`).join('; ');
    lines.push(`drops: ${drops || 'none'}`);
    lines.push('path: client → underlay0.341 (untag 341) → br-provider (Kube-OVN rule → patch) → OVN underlay-subnet (LB DNAT, prefer local) → pod; reply un-DNATed to the VIP → br-provider NORMAL → underlay0.341 (tag 341) → client');
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};
