/**
 * The differential suite against a real cluster in userspace (issue 16): the bundled captures and generated
 * conversations go frame by frame through vippath and through real ovs-vswitchd + ovn-northd + ovn-controller
 * (test/testbed/harness.ts); for every input frame every port must send the same frames, byte for byte.
 * Exclusions and known differences are named and counted below, each with its reason; anything else fails.
 * Cases: VIPPATH_TESTBED_RUNS conversations per scenario (default 12), seed VIPPATH_TESTBED_SEED (printed); the
 * generated conversations are a fast-check property per scenario, so a difference shrinks to a minimal list of
 * conversations, printed with its seed and path (VIPPATH_TESTBED_PATH replays it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureSync } from '@vippath/pcap';
import { DecodedFrame, FrameDecoder, L3 } from '@vippath/wire';
import type { Difference, StepResult } from '../packages/vippath/src/testbed/index.js';
import { processRunning } from './oracle-process.js';
import { conversation6Arb, conversationArb, differenceLines, openTestbed, play, reopenedNatTuple, unavailable, withTestbed, type Conversation, type Conversation6, type OpenTestbed, type Scenario, DEFAULT_SCENARIO as DEFAULT, DUAL_STACK, SESSION_AFFINITY, TWO_SERVICES, UDP_SERVICE } from './testbed/harness.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const RUNS = Number(process.env.VIPPATH_TESTBED_RUNS ?? 12);
/** Generated conversations are lists of up to this many, one list per property run (about RUNS conversations in all). */
const CONVERSATIONS_PER_RUN = 4;
const PROPERTY_RUNS = Math.max(1, Math.ceil(RUNS / 2.5));
/** A counterexample's path (printed with its seed) replays it at once: VIPPATH_TESTBED_PATH. */
const PATH = process.env.VIPPATH_TESTBED_PATH;
// Fixed in CI like the other differential tests; VIPPATH_TESTBED_SEED=random explores (seed 854575347 found the
// failover interleaving pinned below).
const SEED = process.env.VIPPATH_TESTBED_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_TESTBED_SEED ?? 20261201);

/**
 * Differences that are known and counted, with why they exist; each is a finding about vippath (or about the
 * input), listed so the suite stays green while it is open, and so it shows at once when one goes away.
 */
const KNOWN: Record<string, { reason: string; matches: (d: Difference, input: Uint8Array, fromCapture: boolean) => boolean }> = {
  // Empty: 'capture-tcp-out-of-window' went when the testbed's NB got Kube-OVN's use_ct_inv_match=false (the
  // difference was the testbed's, not vippath's). A new entry needs a reason naming the package at fault.
};

/**
 * Known first differences of a generated conversation: the first difference decides; what follows in that
 * conversation is counted as its consequence under the same name (a different backend answers differently ever
 * after). Each one is a finding about vippath's OVN model (packages/ovn), not filtered out but counted.
 */
const ROOTS: Record<string, { reason: string; matches: (s: StepResult, podPorts: Set<string>) => boolean }> = {
  // Found here and fixed in packages/ovn: 'lb-backend-choice' (OVS 3.1's select-group hash, select-group.ts),
  // 'hairpin-eth-src' (the switch now runs northd's ls_in_hairpin flows), 'hairpin-reply' (chk_lb_hairpin_reply
  // as ovn-controller's learned flows on a chassis). Gone with the testbed's overlay made by vippath's northd:
  // 'session-overlay-hash-fields' (the hand-written prefer-local flow lacked the session LB's hash_fields). Gone
  // with ovn-controller's hairpin tables in packages/ovn: 'icmp-error-hairpin' (a pod's ICMP error about its own
  // hairpinned VIP connection: chk_lb_hairpin matches the packet's protocol and backend port).
  'reopened-nat-tuple-ovs-3.1.0': {
    reason: 'a SYN reopening a TIME_WAIT connection to the VIP: Debian\'s ovs-vswitchd 3.1.0 keeps the old connection\'s un-NAT entry until its clean thread sweeps it, so the new DNAT avoids that reply tuple and the pod sees source port +1; packages/ovn\'s conntrack follows branch-3.1 as fixed in v3.1.3 ("conntrack: Remove nat_conn introducing key directionality"), the same choice test/ct-ovs.test.ts documents',
    matches: reopenedNatTuple,
  },
};

/** Judges a whole conversation: a known first difference turns the rest of it into counted consequences. */
function judgeConversation(steps: StepResult[], podPorts: Set<string>): string[] {
  const bad: string[] = [];
  let root: string | undefined;
  for (const s of steps) {
    if (!root && s.differences.length) root = Object.entries(ROOTS).find(([, v]) => v.matches(s, podPorts))?.[0];
    if (root) {
      tally[root] = (tally[root] ?? 0) + s.differences.length;
      continue;
    }
    bad.push(...judge(s, new Uint8Array(0), false));
  }
  return bad;
}

const dec = new FrameDecoder();
const dd = new DecodedFrame();

const tally: Record<string, number> = {};
const excluded: Record<string, number> = {};
/** Ports whose frames from several machines arrived interleaved otherwise on the two sides (Differential.feed). */
let interleaved = 0;
afterAll(() => {
  for (const [k, v] of Object.entries(ROOTS)) if (tally[k]) console.log(`${k}: ${v.reason}`);
  for (const [k, v] of Object.entries(KNOWN)) if (tally[k]) console.log(`${k}: ${v.reason}`);
  console.log(`testbed suite: seed ${SEED}, ${RUNS} conversation(s) per scenario; known differences ${JSON.stringify(tally)}; excluded ${JSON.stringify(excluded)}; interleaved ${interleaved}`);
});

/** Splits a step's differences into known (counted) and unexplained. */
function judge(s: StepResult, input: Uint8Array, fromCapture: boolean): string[] {
  const bad: string[] = [];
  for (const d of s.differences) {
    const k = Object.entries(KNOWN).find(([, v]) => v.matches(d, input, fromCapture));
    if (k) tally[k[0]] = (tally[k[0]] ?? 0) + 1;
    else bad.push(...differenceLines({ ...s, differences: [d] }));
  }
  return bad;
}

/**
 * Checks a property whose runs return the differences they found (each run builds what it needs, so a failing
 * input shrinks on clean clusters); a failure prints its seed and path (VIPPATH_TESTBED_SEED and
 * VIPPATH_TESTBED_PATH replay it) and the minimal input, and fails the test with that input's differences.
 */
async function checkProperty<T>(name: string, arb: fc.Arbitrary<T>, numRuns: number, run: (value: T) => Promise<string[]>): Promise<number> {
  let failure: string[] = [];
  let runs = 0;
  const result = await fc.check(
    fc.asyncProperty(arb, async (value) => {
      runs++;
      const bad = await run(value);
      failure = bad;
      if (bad.length) throw new Error(bad.join('\n'));
    }),
    { seed: SEED, numRuns, ...(PATH ? { path: PATH } : {}) },
  );
  if (result.failed) {
    const replay = `VIPPATH_TESTBED_SEED=${result.seed} VIPPATH_TESTBED_PATH=${result.counterexamplePath ?? ''}`;
    const minimal = JSON.stringify(result.counterexample?.[0]);
    console.log(`${name}: counterexample after ${result.numShrinks} shrink(s) (replay: ${replay}):\n${minimal}`);
    if (failure.length) expect(failure, `${name}, seed ${result.seed}, path ${result.counterexamplePath} (${replay}); minimal input ${minimal}:\n${failure.join('\n')}`).toEqual([]);
    throw new Error(`${name}, seed ${result.seed}, path ${result.counterexamplePath} (${replay}); minimal input ${minimal}: ${String(result.errorInstance ?? '')}`);
  }
  return runs;
}


const SCENARIOS: Scenario[] = [
  DEFAULT,
  TWO_SERVICES,
  {
    name: 'default, Kube-OVN 1.15.20 (VIP-node marker: DNAT only on the announcing node)',
    profile: 'kube-ovn',
    manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: v115}
spec:
  profiles: {kubeOvn: kube-ovn-1.15.20}
`,
  },
  {
    name: 'one node, Kube-OVN 1.14 patches',
    profile: 'kube-ovn',
    manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: one}
spec:
  nodes: [{name: node1}]
`,
  },
  UDP_SERVICE,
  SESSION_AFFINITY,
  {
    // Upstream OVN has none of Kube-OVN's patches; vippath runs its own upstream profile (its northd without the
    // patches, the patches' flags off: Kube-OVN then writes no VIP into the OVN load balancer at all).
    name: 'default scenario on upstream OVN 23.03 (vippath profile upstream: no Kube-OVN patches, their flags off)',
    profile: 'upstream',
    manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: upstream}
spec:
  profiles: {kubeOvn: upstream}
`,
  },
  {
    // Kube-OVN's controller writing ingress VIPs (prefer-local on) into an OVN without its patches: the LB DNATs
    // to any backend on whichever node the frame enters (no prefer_local_backend in upstream northd).
    name: 'upstream OVN 23.03 with enableOvnLbPreferLocal on (VIPs in the LB, no patches to honour them)',
    profile: 'upstream',
    manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: upstream-vips}
spec:
  profiles: {kubeOvn: upstream}
  flags: {enableOvnLbPreferLocal: true}
`,
  },
];

describe.skipIf(unavailable !== undefined)(`a real OVS + OVN cluster in userspace as the oracle${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('a test that throws still stops every daemon it started (by pid), leaving nothing running', async () => {
    let pids: number[] = [];
    await expect(withTestbed(SCENARIOS.find((s) => s.name.startsWith('one node'))!, async (_diff, _sim, bed) => {
      pids = bed.running();
      throw new Error('the test body failed');
    })).rejects.toThrow('the test body failed');
    // ovsdb-server ×2, ovn-northd, the switch's ovsdb-server + vswitchd, the node's ovsdb-server, vswitchd, ovn-controller
    // — each with its `--monitor` process (Daemons.start): 16.
    expect(pids).toHaveLength(16);
    const alive = pids.filter(processRunning);
    expect(alive).toEqual([]);
  });

  it('ovn-controller\'s gratuitous ARPs for bound VIFs: vippath\'s model sends the same bytes to the client, as often, at the same offsets (±0.7 s), and every other node hears each pod\'s as often', async () => {
    await withTestbed(DEFAULT, async (_diff, sim, bed) => {
      const pods = new Map(sim.state.pods.map((p) => [p.ip, p]));
      const garpOf = (f: Uint8Array): string | undefined => {
        if (f[0] !== 0xff || dec.decode(f, dd) !== 0 || dd.l3 !== L3.ARP || dd.arpOp !== 1 || dd.arpSpa !== dd.arpTpa) return undefined;
        const ip = `${dd.arpSpa >>> 24}.${(dd.arpSpa >>> 16) & 255}.${(dd.arpSpa >>> 8) & 255}.${dd.arpSpa & 255}`;
        return pods.has(ip) ? ip : undefined;
      };
      // The real ones, from the first (at binding, seen while the testbed came up) to past the fifth (~30 s).
      const realAll = [...bed.startup];
      const until = Date.now() + 32_000;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 400));
        await bed.settle();
        realAll.push(...bed.take());
      }
      const real = realAll.filter((x) => x.tap === 'outside');
      // vippath's, pods bound at time 0.
      const simulatedAll: Array<{ tap: string; time: number; frame: Uint8Array }> = [];
      let now = 0;
      sim.onTap = (tap, f) => simulatedAll.push({ tap, time: now, frame: f.slice() });
      for (now = 0; now <= 32_000; now += 50) sim.advance(now);
      const simulated = simulatedAll.filter((x) => x.tap === 'outside');
      // Every other node hears each pod's announcements as often as in the simulation (five; its br-provider floods
      // each to its LOCAL port as it learns the MAC): the simulation binds the pods with every node up, and a
      // testbed whose chassis bound a pod before another node was on the wire starts from a state vippath never
      // has — that node missed the first round (4 at its LOCAL port) and learned the MAC 2 s later, after the
      // first input when the rest came up fast (a generated conversation failed on it; see Testbed's build). A
      // pod's own node learns its MAC on the patch port, whatever reaches its LOCAL port (which missed the very first
      // GARP of the first pod bound in some starts of the default scenario: no state rests on that, left out).
      const heardAt = (xs: Array<{ tap: string; frame: Uint8Array }>): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const n of sim.cluster.nodes) for (const [ip, p] of pods) if (p.node !== n.name) out[`${n.name} ${ip}`] = 0;
        for (const x of xs) {
          const ip = garpOf(x.frame);
          const key = `${x.tap.replace(/\/br-provider$/, '')} ${ip}`;
          if (ip && x.tap.endsWith('/br-provider') && key in out) out[key]!++;
        }
        return out;
      };
      const heard = heardAt(realAll);
      expect(heard).toEqual(heardAt(simulatedAll));
      expect(Object.values(heard).every((n) => n === 5), JSON.stringify(heard)).toBe(true);
      for (const ip of pods.keys()) {
        const r = real.filter((x) => garpOf(x.frame) === ip);
        const m = simulated.filter((x) => garpOf(x.frame) === ip);
        expect(r.length, `real GARPs for ${ip}`).toBe(5);
        expect(m.length, `vippath GARPs for ${ip}`).toBe(5);
        const hex = (f: Uint8Array): string => Buffer.from(f).toString('hex');
        expect(m.map((x) => hex(x.frame))).toEqual(r.map((x) => hex(x.frame)));
        const offsets = r.map((x) => x.time - r[0]!.time);
        console.log(`ovn-controller GARPs for ${ip}: real at +${offsets.join(', +')} ms; vippath at +${m.map((x) => x.time - m[0]!.time).join(', +')} ms`);
        m.forEach((x, i) => expect(Math.abs(x.time - m[0]!.time - offsets[i]!), `${ip} announcement ${i + 1}: real at +${offsets[i]} ms`).toBeLessThan(700));
      }
    });
  }, 90_000);

  const captures = readdirSync(fixtures).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

  it.each(captures)('capture %s: every frame, every port, the same bytes (or a named, counted exclusion)', async (name) => {
    const records = readCaptureSync(new Uint8Array(readFileSync(`${fixtures}${name}`)), { onError: 'skip' }).records;
    const bad: string[] = [];
    let fed = 0;
    await withTestbed(DEFAULT, async (diff, sim) => {
      const t0 = records[0]?.timestamp ?? 0n;
      let last = 0;
      for (const [i, r] of records.entries()) {
        const why = r.linktype !== 1 ? 'not-ethernet' : sim.fromCluster(r.data) ? 'cluster-frame-in-capture' : undefined;
        if (why) {
          diff.exclude(why);
          continue;
        }
        last = Math.max(last, Number(r.timestamp - t0) / 1e6);
        const s = await diff.feed({ at: 'outside', frame: r.data, time: last, label: `${name} record ${i + 1}` });
        fed++;
        bad.push(...judge(s, r.data, true));
      }
      for (const [k, n] of Object.entries(diff.totals.excluded)) excluded[k] = (excluded[k] ?? 0) + n;
      // Something was compared at all: a capture whose frames all were excluded says so.
      if (fed > 0) expect(diff.totals.compared).toBeGreaterThan(0);
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  /**
   * Plays `before`, takes node3 (the VIP's owner) down with its link, waits past MetalLB's failure detection and
   * plays `after`; the VIP must have moved. The first conversation after it still uses node3's MAC (the harness
   * reads the owner when a conversation starts): the switch floods it to the nodes left.
   */
  async function failover(before: Conversation[], after: Conversation[]): Promise<string[]> {
    const bad: string[] = [];
    const owners: string[] = [];
    await withTestbed(DEFAULT, async (diff, sim) => {
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      const vip = sim.state.services[0]!.ingress[0]!;
      let t = 100;
      for (const c of before) {
        const steps: StepResult[] = [];
        t = await play(c, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
      }
      owners.push(sim.state.metallb.owners(vip).join());
      diff.nodeDown('node3', t + 10);
      // Past MetalLB's failure detection (5 s), well before the endpoints would turn not ready (40 s).
      t += 8000;
      for (const c of after) {
        const steps: StepResult[] = [];
        t = await play(c, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
      }
      owners.push(sim.state.metallb.owners(vip).join());
      interleaved += diff.totals.interleaved;
      expect(diff.totals.compared).toBeGreaterThan(0);
    });
    // Not vacuous: the VIP did move.
    expect(owners[0]).toBe('node3');
    expect(owners[1]).not.toBe('node3');
    expect(owners[1]).not.toBe('');
    return bad;
  }

  it('failover, pinned (seed 854575347): a SYN to the dead owner\'s MAC floods to node1 and node2, both answer from their local pod; the two SYN-ACKs reach the client in a racing order', async () => {
    const syn: Conversation = { kind: 'tcp', client: 18, target: 'vip', which: 6, sport: 1026, isn: 8, path: '/', close: 'early-fin' };
    const bad = await failover([{ kind: 'tcp', client: 3, target: 'vip', which: 0, sport: 40000, isn: 1, path: '/', close: 'fin' }], [syn]);
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('a client reopens its closed connection (same ports, TIME_WAIT): the real 3.1.0 moves the source port, vippath (branch-3.1) does not — counted under its name, nothing else differs', async () => {
    const syn: Conversation = { kind: 'tcp', client: 18, target: 'vip', which: 6, sport: 1026, isn: 8, path: '/', close: 'early-fin' };
    const before = tally['reopened-nat-tuple-ovs-3.1.0'] ?? 0;
    const bad: string[] = [];
    await withTestbed(DEFAULT, async (diff, sim) => {
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      let t = await play({ kind: 'arp', client: 18, target: 'vip', which: 0, pad: false }, diff, 100, () => undefined);
      for (const c of [syn, syn]) {
        const steps: StepResult[] = [];
        t = await play(c, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
      }
    });
    expect(bad, bad.join('\n')).toEqual([]);
    // Not vacuous, and it shows at once when either side changes (e.g. an OVS with the fix installed).
    expect((tally['reopened-nat-tuple-ovs-3.1.0'] ?? 0) - before).toBeGreaterThan(0);
  });

  it('failover: the owner (node3) loses its link; MetalLB moves the VIP; conversations before and after (a property: a fresh cluster per run, failures shrink)', async () => {
    const outsideOnly = conversationArb.filter((c) => c.kind !== 'pod-client');
    const arb = fc.tuple(fc.array(outsideOnly, { minLength: 1, maxLength: 6 }), fc.array(outsideOnly, { minLength: 1, maxLength: 12 }));
    const runs = await checkProperty('failover', arb, Math.max(1, Math.round(RUNS / 12)), ([before, after]) => failover(before, after));
    console.log(`failover: seed ${SEED}, ${runs} run(s), all the same on both sides`);
  });

  it('readiness: the VIP owner\'s only pod turns unready (Kube-OVN rewrites the LB, MetalLB withdraws ETP Local) and ready again; conversations in each phase', async () => {
    const outsideOnly = conversationArb.filter((c) => c.kind !== 'pod-client');
    const phase = fc.array(outsideOnly, { minLength: 1, maxLength: 6 });
    const runs = await checkProperty('readiness', fc.tuple(phase, phase, phase), Math.max(1, Math.round(RUNS / 12)), (phases) => readiness(phases));
    console.log(`readiness: seed ${SEED}, ${runs} run(s), all the same on both sides`);
  });

  /** The readiness scenario over three phases of conversations; returns the differences (non-vacuity asserted). */
  async function readiness(phases: Conversation[][]): Promise<string[]> {
    const bad: string[] = [];
    const owners: string[] = [];
    const vipsSeen: string[] = [];
    const overlays: string[] = [];
    await withTestbed(DEFAULT, async (diff, sim, bed) => {
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      const vip = sim.state.services[0]!.ingress[0]!;
      const pod = sim.state.pods.find((p) => p.node === 'node3')!.name;
      let t = 100;
      const run = async (convs: Conversation[]): Promise<void> => {
        for (const c of convs) {
          const steps: StepResult[] = [];
          t = await play(c, diff, t, (s) => steps.push(s));
          bad.push(...judgeConversation(steps, podPorts));
        }
        owners.push(sim.state.metallb.owners(vip).join());
        vipsSeen.push(bed.nbctl('--bare', '--columns=vips', 'list', 'Load_Balancer', 'cluster-tcp-loadbalancer').trim());
        overlays.push(bed.overlay.filter((f) => f.stage === 'ls_in_lb').map((f) => f.actions).join(' '));
      };
      await run(phases[0]!);
      diff.setPodReady(pod, false, t + 10);
      t += 1000;
      await run(phases[1]!);
      diff.setPodReady(pod, true, t + 10);
      t += 1000;
      await run(phases[2]!);
      interleaved += diff.totals.interleaved;
      expect(diff.totals.compared).toBeGreaterThan(0);
    });
    // Not vacuous: the VIP left node3 and came back, and the real LB lost the backend and got it again.
    expect(owners[0]).toBe('node3');
    expect(owners[1]).not.toMatch(/node3|^$/);
    expect(owners[2]).toBe('node3');
    expect(vipsSeen[0]).toContain('10.180.204.4:80');
    expect(vipsSeen[1]).not.toContain('10.180.204.4:80');
    expect(vipsSeen[1]).toContain('10.180.204.2:80');
    expect(vipsSeen[2]).toContain('10.180.204.4:80');
    // The patch flows were made again from the new LB: no prefer-local DNAT to the unready pod meanwhile.
    expect(overlays[0]).toContain('10.180.204.4:80');
    expect(overlays[1]).not.toContain('10.180.204.4:80');
    expect(overlays[1]).toContain('10.180.204.2:80');
    expect(overlays[2]).toContain('10.180.204.4:80');
    return bad;
  }

  it('UDP Service, pinned: datagrams to the UDP VIP reach the owner\'s own pod DNATed (port 53), the same on both sides', async () => {
    const scenario = UDP_SERVICE;
    const bad: string[] = [];
    let delivered = 0;
    await withTestbed(scenario, async (diff, sim) => {
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      const udpVip = sim.state.services.findIndex((x) => x.ports[0]?.protocol === 'UDP');
      expect(udpVip).toBeGreaterThanOrEqual(0);
      let t = await play({ kind: 'arp', client: 5, target: 'vip', which: udpVip, pad: false }, diff, 100, () => undefined);
      for (const size of [0, 33]) {
        const steps: StepResult[] = [];
        t = await play({ kind: 'udp', client: 5, target: 'vip', which: udpVip, sport: 40000 + size, dport: 53, size }, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
        for (const st of steps) for (const p of st.ports) if (podPorts.has(p.port)) delivered += p.real.filter((f) => f.length > 23 && f[23] === 17 && f[36] === 0 && f[37] === 53).length;
      }
    });
    expect(bad, bad.join('\n')).toEqual([]);
    expect(delivered).toBe(2);
  });

  it('rel traffic, pinned: ICMP errors (host/port unreachable, frag needed; 28 bytes or the whole packet embedded) about a connection, from the client (to the VIP, to a pod) and from a pod that connected to its VIP', async () => {
    const bad: string[] = [];
    // Where each ICMP error went on the real side, by case: the ports it reached.
    const reached = new Map<string, string[]>();
    await withTestbed(DEFAULT, async (diff, sim) => {
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      let t = await play({ kind: 'arp', client: 6, target: 'vip', which: 0, pad: false }, diff, 100, () => undefined);
      const cases: Conversation[] = [];
      for (const [from, to] of [['outside', 'vip'], ['outside', 'pod'], ['pod', 'vip']] as const) {
        for (const [code, embed] of [[4, 'header'], [3, 'all'], [1, 'header']] as const) cases.push({ kind: 'icmp-error', from, to, client: 6, pod: cases.length % 3, sport: 30000 + cases.length, code, embed });
      }
      for (const c of cases) {
        const steps: StepResult[] = [];
        t = await play(c, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
        const last = steps.at(-1);
        if (steps.length !== 2 || !last) continue;
        const key = c.kind === 'icmp-error' ? `${c.from}→${c.to}` : '';
        const ports = last.ports.filter((p) => p.real.some((f) => dec.decode(f, dd) === 0 && dd.l3 === L3.IPV4 && dd.ipProto === 1 && f[dd.l4Offset] === 3)).map((p) => p.port.replace(/^node\d\//, '').replace(/-\d+$/, '').replace(/^deploy.*/, 'pod'));
        reached.set(key, [...new Set([...(reached.get(key) ?? []), ...ports])]);
      }
    });
    console.log(`ICMP errors reached: ${JSON.stringify(Object.fromEntries(reached))}`);
    expect(bad, bad.join('\n')).toEqual([]);
    // To a pod's own address: through OVN's conntrack as related traffic, to the pod.
    expect(reached.get('outside→pod')).toContain('pod');
    // To the VIP: Kube-OVN's br-provider rule takes only TCP to VIP:port into OVN; the error goes to the node's
    // own stack (LOCAL), never to the pod that holds the connection (a PMTU black hole for the VIP's clients).
    expect(reached.get('outside→vip')).toContain('br-provider');
    expect(reached.get('outside→vip')).not.toContain('pod');
    // From a pod about its own hairpinned connection to the VIP: not hairpinned (ovn-controller's chk_lb_hairpin
    // wants the LB's protocol and backend port), so Kube-OVN's l2_lkup 55 sends it to its own port: dropped.
    expect(reached.get('pod→vip')).toEqual([]);
  });

  it('session affinity, pinned: one client\'s connections (new source ports) stick to one backend, others\' spread; the same on both sides', async () => {
    const scenario = SESSION_AFFINITY;
    const bad: string[] = [];
    const backendsOf = new Map<number, Set<string>>();
    await withTestbed(scenario, async (diff, sim, bed) => {
      // The real LB is the session one, as Kube-OVN writes it.
      expect(bed.nbctl('--bare', '--columns=options,selection_fields', 'list', 'Load_Balancer', 'cluster-tcp-session-loadbalancer')).toMatch(/affinity_timeout=10800[\s\S]*ip_src/);
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      let t = await play({ kind: 'arp', client: 1, target: 'vip', which: 0, pad: false }, diff, 100, () => undefined);
      for (const client of [1, 2, 3, 4]) {
        for (let k = 0; k < 3; k++) {
          const steps: StepResult[] = [];
          t = await play({ kind: 'tcp', client, target: 'vip', which: 0, sport: 20000 + client * 100 + k, isn: k, path: '/hostname', close: 'fin' }, diff, t, (s) => steps.push(s));
          bad.push(...judgeConversation(steps, podPorts));
          const to = steps[0]?.ports.find((p) => podPorts.has(p.port) && p.real.length)?.port;
          if (to) backendsOf.set(client, new Set([...(backendsOf.get(client) ?? []), to]));
        }
      }
    });
    console.log(`session affinity: backends per client ${JSON.stringify([...backendsOf].map(([c, b]) => [c, [...b]]))}`);
    expect(bad, bad.join('\n')).toEqual([]);
    // Not vacuous: every client got answers, each from one backend only. (Each client's very first SYN is dropped on
    // both sides: OVN 23.03's ls_in_lb_aff_learn flow is commit_lb_aff with no next; its later connections pass.)
    expect(backendsOf.size).toBe(4);
    for (const b of backendsOf.values()) expect(b.size).toBe(1);
  });

  it('dual-stack, pinned: NS for the IPv6 VIP (MetalLB answers) and for a pod, TCP to the IPv6 VIP and to a pod\'s IPv6 address (SYN, data, FIN): the same frames on both sides', async () => {
    const bad: string[] = [];
    const seen = { na: 0, podSyn: 0, response: 0 };
    let lbVips = '';
    await withTestbed(DUAL_STACK, async (diff, sim, bed) => {
      lbVips = bed.nbctl('--bare', '--columns=vips', 'list', 'Load_Balancer', 'cluster-tcp-loadbalancer');
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      let t = 100;
      const convs: Conversation6[] = [];
      for (const [i, target] of (['vip', 'pod', 'vip', 'pod'] as const).entries()) convs.push({ kind: 'tcp6', client: 3 + i, target, which: i, ns: true, sport: 41000 + i, isn: 1000 * i, path: i % 2 ? '/hostname' : '/clientip', close: 'fin' });
      for (const c of convs) {
        const steps: StepResult[] = [];
        t = await play(c, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
        for (const st of steps) {
          for (const p of st.ports) {
            for (const f of p.real) {
              if (dec.decode(f, dd) !== 0 || dd.l3 !== L3.IPV6) continue;
              // Solicited NAs only: MetalLB's unsolicited announcements of the VIP come besides them.
              if (p.port === 'outside' && dd.ipProto === 58 && dd.icmpType === 136 && (f[dd.l4Offset + 4]! & 0x40) !== 0) seen.na++;
              if (podPorts.has(p.port) && dd.ipProto === 6 && (dd.tcpFlags & 0x12) === 0x02) seen.podSyn++;
              if (p.port === 'outside' && dd.ipProto === 6 && dd.payloadLength > 0) seen.response++;
            }
          }
        }
      }
      interleaved += diff.totals.interleaved;
    });
    console.log(`dual-stack pinned: real LB vips ${lbVips.trim()}; NAs ${seen.na}, SYNs at pods ${seen.podSyn}, HTTP responses ${seen.response}`);
    expect(bad, bad.join('\n')).toEqual([]);
    // Not vacuous: the real LB has the IPv6 VIP with IPv6 backends, every NS was answered, every SYN reached a pod
    // (DNATed for the VIP) and every request got its answer.
    expect(lbVips).toContain('[fd00:10:180::fc]:80=[fd00:10:180::2]:80,[fd00:10:180::3]:80,[fd00:10:180::4]:80');
    expect(seen).toEqual({ na: 4, podSyn: 4, response: 4 });
  });

  it('dual-stack, generated IPv6 conversations (a property: a fresh cluster per run, failures shrink)', async () => {
    let compared = 0;
    const runs = await checkProperty('dual-stack', fc.array(conversation6Arb, { minLength: 1, maxLength: CONVERSATIONS_PER_RUN }), PROPERTY_RUNS, async (convs) => {
      const bad: string[] = [];
      await withTestbed(DUAL_STACK, async (diff, sim) => {
        const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
        let t = 100;
        for (const c of convs) {
          const steps: StepResult[] = [];
          t = await play(c, diff, t, (s) => steps.push(s));
          bad.push(...judgeConversation(steps, podPorts));
        }
        compared += diff.totals.compared;
        for (const [k, n] of Object.entries(diff.totals.excluded)) excluded[k] = (excluded[k] ?? 0) + n;
        interleaved += diff.totals.interleaved;
      });
      return bad;
    });
    console.log(`dual-stack: seed ${SEED}, ${runs} run(s) of up to ${CONVERSATIONS_PER_RUN} IPv6 conversations, ${compared} frame(s) compared, all the same on both sides`);
    expect(compared).toBeGreaterThan(0);
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('generated conversations, %s (a property: a failure shrinks to a minimal conversation list)', async (_name, scenario) => {
    // Each run plays a list of conversations from a clean slate: both sides forget every connection (conntrack
    // flushed on every node, pods fresh) — and after a failing run the next one (a shrink candidate) gets a new
    // cluster on both sides, so what a counterexample shows does not rest on the runs before it.
    let open: OpenTestbed | undefined;
    let dirty = false;
    let t = 100;
    let runs = 0;
    let compared = 0;
    let failure: string[] = [];
    const checkOverlay = (o: OpenTestbed): void => {
      // The real side carries the patches the simulated profile assumes (none for upstream).
      if (scenario.profile === 'upstream') expect(o.bed.overlay).toEqual([]);
      else expect(o.bed.overlay.map((f) => `${f.stage}/${f.priority}`)).toEqual(expect.arrayContaining(o.sim.cluster.profiles.kubeOvn === 'kube-ovn-1.15.20' ? ['ls_in_lb/139', 'ls_in_lb/140'] : ['ls_in_lb/140', 'ls_in_l2_lkup/55']));
    };
    const property = fc.asyncProperty(fc.array(conversationArb, { minLength: 1, maxLength: CONVERSATIONS_PER_RUN }), async (convs) => {
      runs++;
      if (!open || dirty) {
        await open?.close();
        open = undefined;
        open = await openTestbed(scenario);
        checkOverlay(open);
        dirty = false;
        t = 100;
      } else {
        open.diff.resetConnections();
      }
      const { diff, sim } = open;
      const before = diff.totals.compared;
      const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
      const bad: string[] = [];
      for (const c of convs) {
        const steps: StepResult[] = [];
        t = await play(c, diff, t, (s) => steps.push(s));
        bad.push(...judgeConversation(steps, podPorts));
      }
      if (bad.length) {
        dirty = true;
        failure = bad;
        throw new Error(bad.join('\n'));
      }
      // (A run may compare nothing: an input both sides drop without a trace, e.g. a new client's first SYN to
      // an affinity VIP. Over all runs something is compared: checked below.)
      compared += diff.totals.compared - before;
    });
    try {
      const result = await fc.check(property, { seed: SEED, numRuns: PROPERTY_RUNS, ...(PATH ? { path: PATH } : {}) });
      if (result.failed) {
        const replay = `VIPPATH_TESTBED_SEED=${result.seed} VIPPATH_TESTBED_PATH=${result.counterexamplePath ?? ''}`;
        console.log(`${scenario.name}: counterexample after ${result.numShrinks} shrink(s) (replay: ${replay}):\n${JSON.stringify(result.counterexample?.[0])}`);
        expect(failure, `${scenario.name}, seed ${result.seed}, path ${result.counterexamplePath} (${replay}); minimal conversations ${JSON.stringify(result.counterexample?.[0])}:\n${failure.join('\n')}`).toEqual([]);
        throw new Error(`property failed without a difference list: ${String(result.errorInstance ?? '')}`);
      }
      console.log(`${scenario.name}: seed ${SEED}, ${runs} run(s) of up to ${CONVERSATIONS_PER_RUN} conversations, ${compared} frame(s) compared, all the same on both sides`);
      expect(compared).toBeGreaterThan(0);
    } finally {
      if (open) {
        for (const [k, n] of Object.entries(open.diff.totals.excluded)) excluded[k] = (excluded[k] ?? 0) + n;
        interleaved += open.diff.totals.interleaved;
        await open.close();
      }
    }
  });
});
