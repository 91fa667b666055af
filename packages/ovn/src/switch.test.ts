import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame } from '@vippath/wire';
import { LogicalSwitch, type KubeOvnProfile, type LogicalPort, type StageStep, type SwitchOptions } from './switch.js';
import type { LoadBalancerSpec } from './loadbalancer.js';

const VIP = '10.180.204.252';
const CLIENT = '10.180.204.100';
const CLIENT_MAC = '52:54:00:aa:00:64';
const podMac = (i: number): string => `00:00:00:b4:cc:${(10 + i).toString(16).padStart(2, '0')}`;
const podIp = (i: number): string => `10.180.204.${10 + i}`;

/** The default scenario's switch: localnet + one pod per listed node (pod i on node i). */
function scenario(nodes = [1, 2, 3], options: SwitchOptions = {}, marker?: string): LogicalSwitch {
  const ports: LogicalPort[] = [{ kind: 'localnet', name: 'localnet.underlay-subnet', network: 'provider' }];
  for (const i of nodes) ports.push({ kind: 'vif', name: `pod${i}.default`, mac: podMac(i), ips: [podIp(i)], chassis: `node${i}` });
  const lb: LoadBalancerSpec = {
    name: 'cluster-tcp-loadbalancer',
    vips: { [`${VIP}:80`]: nodes.map((i) => `${podIp(i)}:80`).join(',') },
    options: { prefer_local_backend: true },
    ipPortMappings: Object.fromEntries(nodes.map((i) => [podIp(i), `pod${i}.default:0.0.0.0`])),
    ...(marker ? { externalIds: { [`kube-ovn.io/local-external-vip/${VIP}:80`]: marker } } : {}),
  };
  return new LogicalSwitch('underlay-subnet', ports, [lb], { subnet: '10.180.204.0/24', ...options });
}

/** A client segment as br-provider hands it over: eth.dst rewritten to 00:00:00:01:00:01. */
const fromClient = (sport = 40000, flags = 0x02, seq = 0): Uint8Array =>
  buildFrame({ dst: '00:00:00:01:00:01', src: CLIENT_MAC, ipv4: { src: CLIENT, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags, seq } });
const fromPod = (i: number, dport = 40000, flags = 0x12): Uint8Array =>
  buildFrame({ dst: CLIENT_MAC, src: podMac(i), ipv4: { src: podIp(i), dst: CLIENT }, tcp: { srcPort: 80, dstPort: dport, flags } });

describe('request and reply through the default scenario (DATAPATH.md §2–§3)', () => {
  it('a SYN entering on the owner (node3) is DNATed to node3\'s pod, the client IP preserved; the SYN-ACK leaves with src = VIP:80', () => {
    const ls = scenario();
    const trace: StageStep[] = [];
    const r = ls.process(fromClient(), 'localnet.underlay-subnet', 'node3', 0, trace);
    expect(r.verdict).toBe('output');
    if (r.verdict !== 'output') return;
    expect(r.outputs.map((o) => [o.port, o.chassis])).toEqual([['pod3.default', 'node3']]);
    const p = parseFrame(r.outputs[0]!.frame);
    expect(p.ipv4).toMatchObject({ src: CLIENT, dst: podIp(3) });
    expect(p.tcp!.dstPort).toBe(80);
    expect(p.eth.dst).toBe(podMac(3));
    expect(p.checksum).toBe('ok');
    expect(trace.map((s) => `${s.stage}/${s.priority}`)).toEqual([
      'ls_in_pre_lb/100', 'ls_in_pre_stateful/120', 'ls_in_lb/140', 'ls_in_arp_rsp/100', 'ls_in_l2_lkup/55', 'ls_out_pre_lb/100', 'ls_out_pre_stateful/110', 'ls_out_apply_port_sec/0',
    ]);
    expect(trace.find((s) => s.stage === 'ls_in_lb')!.match).toBe(`ct.new && ip4.dst == ${VIP} && tcp.dst == 80 && is_chassis_resident("pod3.default")`);

    const reply = ls.process(fromPod(3), 'pod3.default', 'node3', 1);
    expect(reply.verdict).toBe('output');
    if (reply.verdict !== 'output') return;
    expect(reply.outputs.map((o) => o.port)).toEqual(['localnet.underlay-subnet']);
    const q = parseFrame(reply.outputs[0]!.frame);
    expect(q.ipv4).toMatchObject({ src: VIP, dst: CLIENT });
    expect(q.tcp!.srcPort).toBe(80);
    expect(q.eth.src).toBe(podMac(3));
    expect(q.checksum).toBe('ok');

    // The rest of the connection follows the committed entry: same backend, ct.est.
    const ack = ls.process(fromClient(40000, 0x10, 1), 'localnet.underlay-subnet', 'node3', 2);
    expect(ack.verdict === 'output' && parseFrame(ack.outputs[0]!.frame).ipv4!.dst).toBe(podIp(3));
    const zone = ls.zone('node3', 'localnet.underlay-subnet');
    expect(zone.size).toBe(1);
    expect(zone.entries()[0]!.tcp).toBe('established');
  });

  it('kube-ovn-1.14 fallback: no backend on the ingress chassis ⇒ any backend, and the reply leaves un-NATed from another chassis', () => {
    const ls = scenario([2, 3]);
    const trace: StageStep[] = [];
    const r = ls.process(fromClient(40001), 'localnet.underlay-subnet', 'node1', 0, trace);
    expect(trace.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 120 });
    expect(r.verdict).toBe('output');
    if (r.verdict !== 'output') return;
    // Out through node1's localnet, addressed to a remote pod.
    expect(r.outputs.map((o) => [o.port, o.chassis])).toEqual([['localnet.underlay-subnet', 'node1']]);
    const p = parseFrame(r.outputs[0]!.frame);
    const backend = [2, 3].find((i) => p.ipv4!.dst === podIp(i))!;
    expect(p.eth.dst).toBe(podMac(backend));
    // On the backend's node the request arrives from the wire: no VIP match, delivered by IP.
    const there = ls.process(r.outputs[0]!.frame, 'localnet.underlay-subnet', `node${backend}`, 1);
    expect(there.verdict === 'output' && there.outputs[0]!.port).toBe(`pod${backend}.default`);
    // The pod's reply egresses through its own chassis' localnet zone, which has no NAT entry: the client sees the pod IP.
    const reply = ls.process(fromPod(backend, 40001), `pod${backend}.default`, `node${backend}`, 2);
    expect(reply.verdict === 'output' && parseFrame(reply.outputs[0]!.frame).ipv4!.src).toBe(podIp(backend));
  });

  it('ls_ct_skip_dst_lport_ips=true: the VIP is inside the subnet, so no conntrack, no DNAT, and the frame is dropped', () => {
    const ls = scenario([1, 2, 3], { lsCtSkipDstLportIps: true });
    const trace: StageStep[] = [];
    const r = ls.process(fromClient(), 'localnet.underlay-subnet', 'node3', 0, trace);
    expect(r).toEqual({ verdict: 'drop', reason: expect.stringMatching(/unknown MAC from the localnet port/) });
    expect(trace[0]).toMatchObject({ stage: 'ls_in_pre_lb', priority: 105, match: 'ip4 && ip4.dst == 10.180.204.0/24' });
    expect(trace.some((s) => s.stage === 'ls_in_lb')).toBe(false);
  });

  it('kube-ovn-1.15.20 with the VIP-node marker: DNAT only on the announcing node (139 bypass elsewhere)', () => {
    const ls = scenario([1, 2, 3], { profile: 'kube-ovn-1.15.20' as KubeOvnProfile }, 'node-node3');
    const t1: StageStep[] = [];
    expect(ls.process(fromClient(), 'localnet.underlay-subnet', 'node1', 0, t1).verdict).toBe('drop');
    expect(t1.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 139, actions: 'next;' });
    const t3: StageStep[] = [];
    const r = ls.process(fromClient(40002), 'localnet.underlay-subnet', 'node3', 0, t3);
    expect(t3.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 140, match: expect.stringContaining('is_chassis_resident("node-node3")') });
    expect(r.verdict === 'output' && parseFrame(r.outputs[0]!.frame).ipv4!.dst).toBe(podIp(3));
  });

  it('a backend reaching its own VIP is SNATed to the VIP (hairpin), and its reply is un-NATed both ways', () => {
    const ls = scenario([3]);
    const syn = buildFrame({ dst: '00:00:00:01:00:01', src: podMac(3), ipv4: { src: podIp(3), dst: VIP }, tcp: { srcPort: 5555, dstPort: 80 } });
    const r = ls.process(syn, 'pod3.default', 'node3', 0);
    expect(r.verdict).toBe('output');
    if (r.verdict !== 'output') return;
    expect(parseFrame(r.outputs[0]!.frame).ipv4).toMatchObject({ src: VIP, dst: podIp(3) });
    const synack = buildFrame({ dst: podMac(3), src: podMac(3), ipv4: { src: podIp(3), dst: VIP }, tcp: { srcPort: 80, dstPort: 5555, flags: 0x12 } });
    const back = ls.process(synack, 'pod3.default', 'node3', 1);
    expect(back.verdict === 'output' && parseFrame(back.outputs[0]!.frame).ipv4).toMatchObject({ src: VIP, dst: podIp(3) });
  });

  it('OVN does not answer ARP from the localnet port; it answers a pod asking for another pod', () => {
    const ls = scenario();
    const fromWire = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: CLIENT_MAC, arp: { op: 1, senderMac: CLIENT_MAC, senderIp: CLIENT, targetMac: '00:00:00:00:00:00', targetIp: podIp(3) } });
    const r = ls.process(fromWire, 'localnet.underlay-subnet', 'node3', 0);
    expect(r.verdict === 'output' && r.outputs.map((o) => o.port)).toEqual(['pod3.default']);
    const fromPod1 = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: podMac(1), arp: { op: 1, senderMac: podMac(1), senderIp: podIp(1), targetMac: '00:00:00:00:00:00', targetIp: podIp(3) } });
    const a = ls.process(fromPod1, 'pod1.default', 'node1', 0);
    expect(a.verdict === 'output' && parseFrame(a.outputs[0]!.frame).arp).toMatchObject({ op: 2, senderMac: podMac(3), senderIp: podIp(3) });
    // Port security: a pod cannot send from another MAC.
    const spoof = buildFrame({ dst: CLIENT_MAC, src: podMac(2), ipv4: { src: podIp(1), dst: CLIENT }, udp: { srcPort: 1, dstPort: 2 } });
    expect(ls.process(spoof, 'pod1.default', 'node1', 0)).toMatchObject({ verdict: 'drop', reason: expect.stringMatching(/port security/) });
  });
});

describe('properties', () => {
  it('every DNATed flow entering on a chassis with a local backend is answered, un-DNATed, through the same chassis', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ sport: fc.integer({ min: 1024, max: 65535 }), node: fc.constantFrom(1, 2, 3) }), { minLength: 1, maxLength: 30 }), (flows) => {
        const ls = scenario();
        let t = 0;
        for (const f of flows) {
          const r = ls.process(fromClient(f.sport), 'localnet.underlay-subnet', `node${f.node}`, t++);
          if (r.verdict !== 'output') return false;
          const p = parseFrame(r.outputs[0]!.frame);
          // prefer-local: always the ingress chassis' own pod, client IP preserved.
          expect(p.ipv4).toMatchObject({ src: CLIENT, dst: podIp(f.node) });
          const reply = ls.process(fromPod(f.node, f.sport), `pod${f.node}.default`, `node${f.node}`, t++);
          if (reply.verdict !== 'output') return false;
          expect(reply.outputs[0]!.chassis).toBe(`node${f.node}`);
          const q = parseFrame(reply.outputs[0]!.frame);
          expect(q.ipv4!.src).toBe(VIP);
          expect(q.tcp!.srcPort).toBe(80);
          expect(q.checksum).toBe('ok');
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('conntrack never exceeds its bound; evictions are counted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 80 }), (limit, n) => {
        const ls = scenario([3], { conntrackLimit: limit });
        for (let i = 0; i < n; i++) ls.process(fromClient(2000 + i), 'localnet.underlay-subnet', 'node3', i);
        const zone = ls.zone('node3', 'localnet.underlay-subnet');
        expect(zone.size).toBeLessThanOrEqual(limit);
        expect(zone.size + zone.evictions).toBe(n);
      }),
    );
  });

  it('connections expire in simulated time (SYN_SENT after 120 s): the next SYN is a new connection', () => {
    const ls = scenario([3]);
    ls.process(fromClient(40000), 'localnet.underlay-subnet', 'node3', 0);
    const zone = ls.zone('node3', 'localnet.underlay-subnet');
    expect(zone.size).toBe(1);
    const trace: StageStep[] = [];
    ls.process(fromClient(40000), 'localnet.underlay-subnet', 'node3', 121_000, trace);
    expect(zone.expirations).toBe(1);
    expect(trace.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 140 });
  });
});

describe('formatOvnTrace', () => {
  it('renders the same decisions as text', async () => {
    const { formatOvnTrace } = await import('./switch.js');
    const ls = scenario();
    const steps: StageStep[] = [];
    const r = ls.process(fromClient(), 'localnet.underlay-subnet', 'node3', 0, steps);
    const text = formatOvnTrace('underlay-subnet', 'localnet.underlay-subnet', steps, r);
    expect(text).toMatch(/^ingress\(dp="underlay-subnet", inport="localnet.underlay-subnet"\)/);
    expect(text).toMatch(/ ls_in_lb: ct\.new && ip4\.dst == 10\.180\.204\.252 && tcp\.dst == 80 && is_chassis_resident\("pod3\.default"\), priority 140/);
    expect(text).toMatch(/output to "pod3\.default" on node3/);
  });
});

describe('IPv6 VIPs', () => {
  const VIP6 = 'fd00:10:180:204::252';
  const CLIENT6 = 'fd00:10:180:204::100';
  const pod6 = (i: number): string => `fd00:10:180:204::${10 + i}`;
  function scenario6(): LogicalSwitch {
    const ports: LogicalPort[] = [{ kind: 'localnet', name: 'ln', network: 'provider' }];
    for (const i of [1, 2, 3]) ports.push({ kind: 'vif', name: `pod${i}.default`, mac: podMac(i), ips: [podIp(i), pod6(i)], chassis: `node${i}` });
    return new LogicalSwitch('underlay-subnet', ports, [{
      name: 'cluster-tcp-loadbalancer',
      vips: { [`[${VIP6}]:80`]: [1, 2, 3].map((i) => `[${pod6(i)}]:80`).join(',') },
      options: { prefer_local_backend: true },
      ipPortMappings: Object.fromEntries([1, 2, 3].map((i) => [`[${pod6(i)}]`, `pod${i}.default:::`])),
    }], { subnet: '10.180.204.0/24' });
  }
  const syn6 = (sport = 40000): Uint8Array => buildFrame({ dst: '00:00:00:01:00:01', src: CLIENT_MAC, ipv6: { src: CLIENT6, dst: VIP6 }, tcp: { srcPort: sport, dstPort: 80 } });

  it('DNATs to the local pod (prefer-local), and the reply leaves with src = [VIP]:80', () => {
    const ls = scenario6();
    const trace: StageStep[] = [];
    const r = ls.process(syn6(), 'ln', 'node2', 0, trace);
    expect(trace.find((s) => s.stage === 'ls_in_pre_stateful')).toMatchObject({ priority: 120, match: `reg0[2] == 1 && ip6.dst == ${VIP6} && tcp.dst == 80` });
    expect(trace.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 140, actions: `ct_lb_mark(backends=[${pod6(2)}]:80);` });
    expect(r.verdict).toBe('output');
    if (r.verdict !== 'output') return;
    expect(r.outputs.map((o) => o.port)).toEqual(['pod2.default']);
    const p = parseFrame(r.outputs[0]!.frame);
    expect(p.ipv6).toMatchObject({ src: CLIENT6, dst: pod6(2) });
    expect(p.eth.dst).toBe(podMac(2));
    expect(p.checksum).toBe('ok');
    const synack = buildFrame({ dst: CLIENT_MAC, src: podMac(2), ipv6: { src: pod6(2), dst: CLIENT6 }, tcp: { srcPort: 80, dstPort: 40000, flags: 0x12 } });
    const back = ls.process(synack, 'pod2.default', 'node2', 1);
    expect(back.verdict === 'output' && back.outputs.map((o) => o.port)).toEqual(['ln']);
    if (back.verdict !== 'output') return;
    const q = parseFrame(back.outputs[0]!.frame);
    expect(q.ipv6).toMatchObject({ src: VIP6, dst: CLIENT6 });
    expect(q.checksum).toBe('ok');
  });

  it('IPv4 and IPv6 connections with equal-looking numbers never share a conntrack entry', () => {
    const ls = scenario6();
    ls.process(syn6(5000), 'ln', 'node1', 0);
    const v4 = buildFrame({ dst: podMac(1), src: CLIENT_MAC, ipv4: { src: CLIENT, dst: podIp(1) }, tcp: { srcPort: 5000, dstPort: 80 } });
    ls.process(v4, 'ln', 'node1', 1);
    expect(ls.zone('node1', 'ln').size).toBe(1);
    expect(ls.zone('node1', 'ln').entries()[0]!.orig.proto).toBe(6 | 0x100);
  });
});

describe('session affinity (affinity_timeout) and router ports', () => {
  function sessionSwitch(extra: LogicalPort[] = []): LogicalSwitch {
    const ports: LogicalPort[] = [{ kind: 'localnet', name: 'ln', network: 'provider' }, ...extra];
    for (const i of [1, 2, 3]) ports.push({ kind: 'vif', name: `pod${i}.default`, mac: podMac(i), ips: [podIp(i)], chassis: 'node1' });
    return new LogicalSwitch('s', ports, [{
      name: 'cluster-tcp-session-loadbalancer',
      vips: { [`${VIP}:80`]: [1, 2, 3].map((i) => `${podIp(i)}:80`).join(',') },
      options: { affinity_timeout: 10800 },
    }]);
  }

  it('a client returns to its learned backend (prio 150) until the affinity times out', () => {
    const ls = sessionSwitch();
    const backendOf = (sport: number, t: number, trace?: StageStep[]): string => {
      const r = ls.process(fromClient(sport), 'ln', 'node1', t, trace);
      return r.verdict === 'output' ? parseFrame(r.outputs[0]!.frame).ipv4!.dst : 'drop';
    };
    const first = backendOf(1000, 0);
    const learnTrace: StageStep[] = [];
    for (let sport = 1001; sport < 1030; sport++) expect(backendOf(sport, sport, sport === 1001 ? learnTrace : undefined)).toBe(first);
    expect(learnTrace.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 150 });
    expect(learnTrace.some((s) => s.stage === 'ls_in_lb_aff_check')).toBe(true);
    // Past the timeout the choice is made afresh (prio 120) and learned again.
    const after: StageStep[] = [];
    backendOf(2000, 10_800_000 + 100_000, after);
    expect(after.find((s) => s.stage === 'ls_in_lb')).toMatchObject({ priority: 120 });
    expect(after.some((s) => s.stage === 'ls_in_lb_aff_learn')).toBe(true);
  });

  it('router ports: no conntrack from them, delivered by MAC, no prio-55 by-IP delivery on such a switch, ARP for their address answered', () => {
    const rp: LogicalPort = { kind: 'router', name: 'underlay-subnet-ovn-cluster', mac: '00:00:00:11:22:33', ips: ['10.180.204.1'] };
    const ls = sessionSwitch([rp]);
    const fromRouter = buildFrame({ dst: podMac(2), src: '00:00:00:11:22:33', ipv4: { src: '10.16.0.5', dst: podIp(2) }, tcp: { srcPort: 1, dstPort: 80 } });
    const t1: StageStep[] = [];
    const r1 = ls.process(fromRouter, rp.name, 'node1', 0, t1);
    expect(t1[0]).toMatchObject({ stage: 'ls_in_pre_lb', priority: 110 });
    expect(r1.verdict === 'output' && r1.outputs.map((o) => o.port)).toEqual(['pod2.default']);
    // With a router port the switch has no prio-55 flows: a packet to a pod IP with the router MAC goes to the router.
    const toRouter = buildFrame({ dst: '00:00:00:11:22:33', src: podMac(1), ipv4: { src: podIp(1), dst: podIp(3) }, udp: { srcPort: 1, dstPort: 2 } });
    const t2: StageStep[] = [];
    const r2 = ls.process(toRouter, 'pod1.default', 'node1', 0, t2);
    expect(r2.verdict === 'output' && r2.outputs.map((o) => o.port)).toEqual([rp.name]);
    expect(t2.some((s) => s.stage === 'ls_in_l2_lkup' && s.priority === 55)).toBe(false);
    expect(t2.find((s) => s.stage === 'ls_out_pre_lb')).toMatchObject({ priority: 110 });
    const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: podMac(1), arp: { op: 1, senderMac: podMac(1), senderIp: podIp(1), targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.1' } });
    const r3 = ls.process(arp, 'pod1.default', 'node1', 0);
    expect(r3.verdict === 'output' && parseFrame(r3.outputs[0]!.frame).arp).toMatchObject({ op: 2, senderMac: '00:00:00:11:22:33' });
  });

  it('rejects a nonsensical affinity_timeout', () => {
    expect(() => new LogicalSwitch('s', [], [{ name: 'lb', vips: {}, options: { affinity_timeout: 'soon' } }])).toThrow(/affinity_timeout/);
  });
});

it('never edits the caller\'s frame, even a Node Buffer (whose slice() is a view)', () => {
  const ls = scenario();
  const input = Buffer.from(fromClient());
  const before = Buffer.from(input);
  const r = ls.process(input, 'localnet.underlay-subnet', 'node3', 0);
  expect(r.verdict).toBe('output');
  expect(input.equals(before)).toBe(true);
});
