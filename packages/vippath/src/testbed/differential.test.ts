/**
 * The lockstep comparison itself, without daemons: the "real" side here is a second simulation of the same
 * cluster whose recorded frames a test may reorder, so what the comparison accepts and refuses is pinned.
 */
import { SimulatedCluster, clusterFrom, withDefaults } from '@vippath/cluster';
import { buildFrame } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { Differential, hintFor } from './differential.js';
import type { TapFrame, Testbed } from './testbed.js';

/** A stand-in for the real cluster: another simulation, its frames handed over through `reorder`. */
function standIn(reorder: (frames: TapFrame[]) => TapFrame[]): { bed: Testbed; other: SimulatedCluster } {
  const objects = withDefaults([]);
  const other = new SimulatedCluster(objects, clusterFrom(objects));
  let seen: TapFrame[] = [];
  let now = 0;
  other.onTap = (tap, frame) => seen.push({ tap, frame: frame.slice(), time: Date.now() });
  const bed = {
    advance: async (t: number) => {
      now = t;
      other.advance(t);
      return 0;
    },
    send: (at: string, frame: Uint8Array) => {
      // What each pod took, as the testbed marks it (its model's verdict on the frame).
      const r = other.inject(frame, now, at as never);
      for (const x of seen) if (x.tap.includes('/') && !x.tap.includes(':') && !x.tap.endsWith('/br-provider')) x.accepted = r.delivered.some((d) => d.frame === x.frame || Buffer.from(d.frame).equals(Buffer.from(x.frame)));
    },
    settle: async () => undefined,
    settleUntil: async () => undefined,
    take: () => {
      const r = reorder(seen);
      seen = [];
      return r;
    },
    nodeDown: (node: string, at: number) => other.nodeDown(node, at, { linkDown: true }),
    setPodReady: (name: string, ready: boolean, at: number) => other.setPodReady(name, ready, at),
    state: other.state,
  };
  return { bed: bed as unknown as Testbed, other };
}

/** The client's SYN to the MAC of node3, which lost its link: the switch floods it to node1 and node2. */
function staleSyn(): Uint8Array {
  return buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:01:22', vlans: [341], ipv4: { src: '10.180.204.118', dst: '10.180.204.252' }, tcp: { srcPort: 1026, dstPort: 80, seq: 8, flags: 0x02, window: 64240 } });
}

/** Swaps the last two frames a port sent. */
function swapLastTwo(port: string): (frames: TapFrame[]) => TapFrame[] {
  return (frames) => {
    const at = frames.flatMap((f, i) => (f.tap === port ? [i] : []));
    const out = [...frames];
    if (at.length >= 2) {
      const [a, b] = [at.at(-2)!, at.at(-1)!];
      [out[a], out[b]] = [out[b]!, out[a]!];
    }
    return out;
  };
}

async function failover(reorder: (frames: TapFrame[]) => TapFrame[]) {
  const objects = withDefaults([]);
  const sim = new SimulatedCluster(objects, clusterFrom(objects));
  const { bed } = standIn(reorder);
  const diff = new Differential(sim, bed);
  diff.nodeDown('node3', 100);
  await diff.feed({ at: 'outside', frame: new Uint8Array(buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:aa:01:22', vlans: [341], arp: { op: 1, senderMac: '52:54:00:aa:01:22', senderIp: '10.180.204.118', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.1' } })), time: 50 });
  const s = await diff.feed({ at: 'outside', frame: staleSyn(), time: 8200 });
  return { s, diff };
}

describe('Differential: frames that reach one switch port from several machines', () => {
  it('after a failover both nodes left answer a flooded SYN; the two SYN-ACKs reach the client in either order (a race of two machines): not a difference, counted as interleaved', async () => {
    const same = await failover((f) => f);
    const outside = same.s.ports.find((p) => p.port === 'outside')!;
    // Not vacuous: two SYN-ACKs, from two pods (eth.src 00:00:00:b4:cc:02 and :03), reach the client.
    const synAcks = outside.simulated.filter((f) => f.length > 50 && f[51] === 0x12);
    expect(synAcks.map((f) => f[11])).toEqual([0x02, 0x03]);
    expect(same.s.differences).toEqual([]);
    expect(same.diff.totals.interleaved).toBe(0);

    const swapped = await failover(swapLastTwo('outside'));
    expect(swapped.s.differences).toEqual([]);
    expect(swapped.diff.totals.interleaved).toBe(1);
    expect(swapped.s.ports.find((p) => p.port === 'outside')!.real.map((f) => f[11])).toEqual(outside.simulated.map((f) => f[11]));
  });

  it('one machine\'s own frames out of order are still a difference (node1\'s MetalLB announcements swapped)', async () => {
    const { s, diff } = await failover((frames) => {
      const at = frames.flatMap((f, i) => (f.tap === 'outside' ? [i] : []));
      const out = [...frames];
      // The first two frames out to the client: node1's gratuitous ARP and its reply, both from node1.
      [out[at[0]!], out[at[1]!]] = [out[at[1]!]!, out[at[0]!]!];
      return out;
    });
    expect(diff.totals.interleaved).toBe(0);
    expect(s.differences.map((d) => `${d.port}[${d.position}]`)).toContain('outside[0]');
  });

  it('frames on a pod port keep their order (one machine)', async () => {
    const { s } = await failover(swapLastTwo('node1/deploy-169402624-0'));
    expect(s.differences.map((d) => d.port)).toContain('node1/deploy-169402624-0');
  });
});

describe('hintFor', () => {
  const syn = (sport: number): Uint8Array => buildFrame({ dst: '00:00:00:b4:cc:02', src: '52:54:00:aa:01:22', ipv4: { src: '10.180.204.118', dst: '10.180.204.2' }, tcp: { srcPort: sport, dstPort: 80, seq: 8, flags: 0x02, window: 64240 } });
  const pods = new Set(['node1/web-0']);
  it('names OVS 3.1.0\'s moved source port when a pod got the same SYN but for its source port', () => {
    expect(hintFor(syn(1026), syn(1027), syn(1026), 'node1/web-0', pods)).toMatch(/TIME_WAIT.*3\.1\.0/);
  });
  it('says nothing of it for another difference, or on a port that is no pod', () => {
    const other = syn(1027);
    other[other.length - 5] ^= 1;
    expect(hintFor(syn(1026), other, syn(1026), 'node1/web-0', pods) ?? '').not.toMatch(/TIME_WAIT/);
    expect(hintFor(syn(1026), syn(1027), syn(1026), 'outside', pods)).toBeUndefined();
  });
});

describe('Differential observing the wire (the caches on)', () => {
  const vipArp = (): Uint8Array => buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:aa:01:22', vlans: [341], arp: { op: 1, senderMac: '52:54:00:aa:01:22', senderIp: '10.180.204.118', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.252' } });
  const seg = (sport: number, flags: number, seq: number): Uint8Array => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:01:22', vlans: [341], ipv4: { src: '10.180.204.118', dst: '10.180.204.252' }, tcp: { srcPort: sport, dstPort: 80, seq, ack: 0, flags, window: 64240 } });

  async function play(reorder: (frames: TapFrame[]) => TapFrame[]) {
    const objects = withDefaults([]);
    const sim = new SimulatedCluster(objects, clusterFrom(objects), { trace: false });
    const { bed } = standIn(reorder);
    const diff = new Differential(sim, bed, 'wire');
    let t = 100;
    for (let k = 0; k < 4; k++) {
      await diff.feed({ at: 'outside', frame: vipArp(), time: (t += 7) });
      for (const flags of [0x02, 0x10, 0x11]) await diff.feed({ at: 'outside', frame: seg(2000 + k, flags, 1), time: (t += 7) });
    }
    return { diff, sim };
  }

  it('repeated ARP and TCP from the outside: the same frames on the wire, to the client and to the pods, with the caches serving them', async () => {
    const { diff, sim } = await play((f) => f);
    expect(diff.totals.differences).toEqual([]);
    expect(diff.totals.compared).toBeGreaterThan(20);
    const c = sim.cacheStats();
    expect(c.hits).toBeGreaterThan(0);
    expect(c.arpHits).toBeGreaterThan(0);
  });

  it('a wrong byte on a node\'s wire output, or a frame a pod took, is a difference', async () => {
    const flip = (match: (t: string) => boolean) => (frames: TapFrame[]) => frames.map((f) => (match(f.tap) && f.frame.length > 40 ? { ...f, frame: Uint8Array.from(f.frame, (b, i) => (i === f.frame.length - 1 ? b ^ 1 : b)) } : f));
    const out = await play(flip((t) => t.endsWith(':out')));
    expect(out.diff.totals.differences.some((d) => d.port.endsWith(':out'))).toBe(true);
    const pod = await play(flip((t) => t.startsWith('node3/deploy')));
    expect(pod.diff.totals.differences.some((d) => d.port.startsWith('node3/deploy'))).toBe(true);
  });
});
