/**
 * A frame from a flow-like description, the way one asks "what happens to this packet?": comma-separated, in
 * ovs-ofctl's words or short ones — `tcp,nw_src=10.180.204.100,nw_dst=10.180.204.252,tp_dst=80,tcp_flags=S`
 * or `tcp,src=10.180.204.100,dst=10.180.204.252,dport=80,flags=S`. What it leaves out comes from the scenario,
 * as the external client would send it: its MAC and IP, VLAN 341, the MAC the VIP resolves to, port 40000 → 80,
 * a SYN.
 */
import { buildFrame, VippathError, type FrameSpec } from '@vippath/wire';
import type { SimulatedCluster } from './simulation.js';

const ALIASES: Record<string, string> = {
  nw_src: 'src', ip_src: 'src', nw_dst: 'dst', ip_dst: 'dst', tp_src: 'sport', tp_dst: 'dport', tcp_flags: 'flags',
  dl_vlan: 'vlan', vlan_vid: 'vlan', dl_src: 'eth_src', eth_src: 'eth_src', dl_dst: 'eth_dst', eth_dst: 'eth_dst', payload: 'payload',
};
const KEYS = new Set(['src', 'dst', 'sport', 'dport', 'flags', 'vlan', 'eth_src', 'eth_dst', 'payload']);
const PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'arp']);
const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, '.': 0x10, U: 0x20 };

/** A frame description that cannot be built: says which part and what is allowed. */
export class FrameDescriptionError extends VippathError {
  constructor(message: string) {
    super('BAD_FRAME_DESCRIPTION', message);
  }
}

function flagsOf(text: string): number {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text, 16);
  let f = 0;
  for (const c of text.replace(/^\+/, '').replace(/\+/g, '')) {
    const bit = FLAG_BITS[c.toUpperCase()] ?? FLAG_BITS[c];
    if (bit === undefined) throw new FrameDescriptionError(`flags=${text}: "${c}" is not a TCP flag (S, A or ., F, R, P, U, or 0x12)`);
    f |= bit;
  }
  return f;
}

function port(text: string, key: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FrameDescriptionError(`${key}=${text}: a port is 0 to 65535`);
  return n;
}

/**
 * Builds the frame `text` describes, filling gaps from `sim`'s scenario. With `ingress` naming a pod
 * (`<node>/<pod>`), the defaults are that pod's: its MAC and IP as the source, no VLAN tag, the client as the
 * destination.
 */
export function frameFromDescription(text: string, sim: SimulatedCluster, ingress = 'outside'): Uint8Array {
  let protocol = 'tcp';
  const v = new Map<string, string>();
  for (const raw of text.split(',').map((t) => t.trim()).filter(Boolean)) {
    const eq = raw.indexOf('=');
    if (eq < 0) {
      if (!PROTOCOLS.has(raw)) throw new FrameDescriptionError(`"${raw}" is not a protocol (tcp, udp, icmp, arp) or a key=value`);
      protocol = raw;
      continue;
    }
    const rawKey = raw.slice(0, eq);
    const key = ALIASES[rawKey] ?? rawKey;
    if (!KEYS.has(key)) throw new FrameDescriptionError(`unknown key "${rawKey}" (keys: src, dst, sport, dport, flags, vlan, eth_src, eth_dst, payload, or their ovs-ofctl names)`);
    v.set(key, raw.slice(eq + 1));
  }
  const c = sim.cluster;
  const fromPod = sim.state.pods.find((p) => ingress === `${p.node}/${p.name}`);
  const vip = sim.state.services.flatMap((s) => s.ingress)[0];
  const dst = v.get('dst') ?? (fromPod ? c.client.ip : vip);
  if (!dst) throw new FrameDescriptionError('no dst= given and the scenario has no VIP to default to');
  const src = v.get('src') ?? fromPod?.ip ?? c.client.ip;
  const vlanText = v.get('vlan') ?? (fromPod ? 'none' : String(c.vlan));
  const vlans = vlanText === 'none' || vlanText === '0xffff' ? [] : [Number(vlanText)];
  if (vlans.some((x) => !Number.isInteger(x) || x < 0 || x > 4095)) throw new FrameDescriptionError(`vlan=${vlanText}: a VLAN ID is 0 to 4095, or none`);
  // The destination MAC the client's ARP would have given: the owner's NIC for a VIP, the pod's for a pod.
  const owner = sim.state.metallb.owners(dst)[0];
  const pod = sim.state.pods.find((p) => p.ip === dst);
  const resolved = owner ? c.nodes.find((n) => n.name === owner)!.mac : pod ? pod.mac : dst === c.client.ip ? c.client.mac : 'ff:ff:ff:ff:ff:ff';
  const spec: FrameSpec = { dst: v.get('eth_dst') ?? (protocol === 'arp' ? 'ff:ff:ff:ff:ff:ff' : resolved), src: v.get('eth_src') ?? fromPod?.mac ?? c.client.mac, vlans };
  try {
    if (protocol === 'arp') spec.arp = { op: 1, senderMac: spec.src, senderIp: src, targetMac: '00:00:00:00:00:00', targetIp: dst };
    else {
      spec.ipv4 = { src, dst };
      const payload = v.has('payload') ? new TextEncoder().encode(v.get('payload')!.replace(/\\r\\n/g, '\r\n')) : undefined;
      if (protocol === 'tcp') spec.tcp = { srcPort: port(v.get('sport') ?? '40000', 'sport'), dstPort: port(v.get('dport') ?? '80', 'dport'), flags: flagsOf(v.get('flags') ?? 'S'), seq: 1000, ...(payload ? { payload } : {}) };
      else if (protocol === 'udp') spec.udp = { srcPort: port(v.get('sport') ?? '40000', 'sport'), dstPort: port(v.get('dport') ?? '80', 'dport'), ...(payload ? { payload } : {}) };
      else spec.icmp = { type: 8, code: 0, body: new Uint8Array([0, 1, 0, 1]) };
    }
    spec.padTo = 60;
    return buildFrame(spec);
  } catch (e) {
    if (e instanceof FrameDescriptionError) throw e;
    throw new FrameDescriptionError(`cannot build the frame: ${(e as Error).message}`);
  }
}
