/**
 * Differential test of the logical-flow interpreter (@vippath/ovn `LflowExecutor`) against Debian's ovn-trace
 * 23.03, both running the Logical_Flow table that the real ovn-northd 23.03 wrote: the Southbound is taken off
 * the oracle with `ovsdb-client backup` and read by `readOvsdbFile` + `sbFromOvsdb`, so nothing is modelled by hand.
 *
 * For every generated microflow (every kind of inport — localnet, VIFs with dual-stack or IPv4-only port security,
 * a router-type port —, ARP, ND, IPv4/IPv6 TCP/UDP/ICMP, spoofed and honest sources, VIPs and pods, one to three
 * `--ct` states from new/est/est,rpl/rel/inv, `--lb-dst` pinned to a backend of the packet's family) the test asks
 * ovn-trace for its detailed, summary and minimal traces in one call and requires vippath's text to be identical,
 * line for line: the same tables, priorities, matches, actions and uuids visited, the same ct transformations,
 * the same field modifications, the same outputs.
 *
 * ovn-trace does not print the final packet; what it changes is in the minimal trace (field modifications), apart
 * from the ct_lb_mark DNAT, whose target `--lb-dst` pins — so "same final microflow" is checked through the minimal
 * trace plus the pinned backend.
 *
 * Where ovn-trace approximates OVN, this test checks vippath's ovn-trace mode (no chassis, the TraceConntrack
 * engine) — which reproduces the approximations — and not OVN's real behaviour; APPROXIMATED below names them. The
 * real behaviour (chassis mode, real conntrack) needs a real OVS+OVN run (the testbed issue). The one place where
 * that mode deliberately follows the real run instead of ovn-trace is MAPPED_VIP (test/ipv6-text.test.ts: an IPv6
 * packet to an IPv4 VIP's `::ffff:` form, where ovn-trace's chk_lb_hairpin says 1 and vippath 0).
 *
 * Runs: VIPPATH_OVNEXEC_RUNS (default 1000) on northd's usual Southbound, VIPPATH_OVNEXEC_LABEL_RUNS (default 400) on the
 * one of a chassis without ct-no-masked-label (VARIANTS); seed VIPPATH_OVNEXEC_SEED (default fixed; `random` for a new one).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LflowExecutor, hmapMask, decodeOnce, frameFromFlow, loadFrame, formatFlow, microflowEnv, parseMicroflow, readOvsdbFile, sbFromOvsdb, type SouthboundState } from '@vippath/ovn';
import { firstDifference } from './helpers/text-diff.js';
import { bucketTiePair, configureAsOvnTrace, oursAsOvnTrace, realOvnTrace, sharedBucketTie } from './helpers/ovn-trace-text.js';
import { OvnOracle, ovnUnavailable } from './ovn-harness.js';

/** What ovn-trace 23.03 approximates; the comparison here is with those approximations, by name. */
export const APPROXIMATED = [
  'chk_lb_aff/commit_lb_aff: no-ops (affinity flows at priority 150 are never reached)',
  'ct_commit: a no-op (no connection is created; later ct actions take --ct states)',
  'chk_lb_hairpin_reply: computed from the packet, not from a learned reply flow',
  'is_chassis_resident: true for every port that exists (chassis-blind)',
  'ct_snat_to_vip: prints the VIP, does not SNAT',
  'conntrack: --ct states in order, est|trk after the last; no table, no NAT un-doing',
] as const;

const unavailable = ovnUnavailable();
if (unavailable) console.warn(`ovn-exec differential test skipped: ${unavailable}`);
const RUNS = Number(process.env.VIPPATH_OVNEXEC_RUNS ?? 1000);
const SEED = process.env.VIPPATH_OVNEXEC_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_OVNEXEC_SEED ?? 20261201);
const PARALLEL = 4;
/** Microflows on the Southbound of a chassis without ct-no-masked-label (VARIANTS). */
const LABEL_RUNS = Number(process.env.VIPPATH_OVNEXEC_LABEL_RUNS ?? 400);

const VIP = '10.180.204.252';
const VIP6 = 'fd00::252';
const UDP_VIP = '10.180.204.253';
const NOPORT_VIP = '10.180.204.254';
const pods = [1, 2, 3].map((i) => ({ name: `pod${i}`, mac: `00:00:00:b4:cc:0${i}`, ip: `10.180.204.1${i}`, ip6: `fd00::1${i}`, ps6: true }));
// pod4's port security lists only IPv4: unicast IPv6 to it is dropped at ls_out_apply_port_sec.
pods.push({ name: 'pod4', mac: '00:00:00:b4:cc:04', ip: '10.180.204.14', ip6: 'fd00::14', ps6: false });
const CLIENT = { mac: '52:54:00:aa:00:64', ip: '10.180.204.100', ip6: 'fd00::100' };
const inports = ['ln', 'ln', 'pod1', 'pod2', 'pod3', 'pod4', 'rp'];

interface Case {
  inport: string;
  kind: 'tcp4' | 'udp4' | 'icmp4' | 'arp' | 'tcp6' | 'udp6' | 'icmp6' | 'ns' | 'na' | 'other';
  honestSrc: boolean;
  dstMac: string;
  dst4: string;
  dst6: string;
  sport: number;
  dport: number;
  arpOp: number;
  ct: string[];
  backend: number;
  ttl: number;
  vlan: boolean;
  /** Pin `--lb-dst`. Unpinned, ovn-trace picks a random backend in ls_in_lb (unprinted): such cases come from the
   * localnet port to an unknown MAC, where every backend leads to the same trace. */
  pinLb: boolean;
  /** Pin the inport's own pod as the backend (a pod reaching its own VIP: hairpin). */
  selfBackend: boolean;
  /** Make it a pod's new TCP connection to its own VIP with itself as the backend (rare otherwise). */
  hairpin: boolean;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  inport: fc.constantFrom(...inports),
  kind: fc.constantFrom('tcp4', 'tcp4', 'udp4', 'icmp4', 'arp', 'tcp6', 'udp6', 'icmp6', 'ns', 'na', 'other'),
  honestSrc: fc.constantFrom(true, true, true, true, false),
  dstMac: fc.constantFrom(...pods.map((p) => p.mac), 'ff:ff:ff:ff:ff:ff', '00:00:00:01:00:01', '33:33:ff:00:00:11', '01:00:5e:00:00:01'),
  dst4: fc.constantFrom(VIP, VIP, VIP, UDP_VIP, UDP_VIP, NOPORT_VIP, ...pods.map((p) => p.ip), CLIENT.ip, '10.180.204.99', '255.255.255.255', '224.0.0.1'),
  dst6: fc.constantFrom(VIP6, VIP6, ...pods.map((p) => p.ip6), CLIENT.ip6, 'ff02::1', 'ff02::1:ff00:11', 'fe80::1'),
  sport: fc.constantFrom(40000, 80, 53, 1234),
  dport: fc.constantFrom(80, 80, 53, 81),
  arpOp: fc.constantFrom(1, 1, 2),
  ct: fc.tuple(fc.constantFrom('new', 'new', 'new', 'est', 'est,rpl', 'rel', 'inv'), fc.array(fc.constantFrom('new', 'est', 'est,rpl', 'rel', 'inv', 'new,rpl'), { maxLength: 2 })).map(([a, b]) => [a, ...b]),
  backend: fc.nat(3),
  ttl: fc.constantFrom(64, 255),
  vlan: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  pinLb: fc.constantFrom(true, true, false),
  selfBackend: fc.constantFrom(false, false, false, true),
  hairpin: fc.constantFrom(false, false, false, false, false, false, false, true),
});

function srcOf(c: Case): { mac: string; ip: string; ip6: string } {
  const pod = pods.find((p) => p.name === c.inport);
  const own = pod ?? CLIENT;
  if (c.honestSrc) return own;
  return { mac: pod ? own.mac : '52:54:00:aa:00:65', ip: '10.180.204.66', ip6: 'fd00::66' };
}

/** The microflow and ovn-trace options of a case. */
export function microflowOf(c1: Case): { micro: string; opts: string[] } {
  const c0: Case = c1.hairpin ? { ...c1, inport: c1.inport.startsWith('pod') && c1.inport !== 'pod4' ? c1.inport : 'pod1', kind: c1.kind === 'tcp6' ? 'tcp6' : 'tcp4', dst4: VIP, dst6: VIP6, dport: 80, honestSrc: true, pinLb: true, selfBackend: true, vlan: false } : c1;
  // With ovn-trace's random backend the packet must not be able to tell backends apart: no hairpin (not from a
  // backend), no egress port security on the destination IP (not to a pod's MAC).
  const c = c0.pinLb ? c0 : { ...c0, inport: c0.inport.startsWith('pod') ? 'ln' : c0.inport, dstMac: '00:00:00:01:00:01' };
  const s = srcOf(c);
  const l2 = `inport == "${c.inport}" && eth.src == ${s.mac} && eth.dst == ${c.dstMac}${c.vlan ? ' && vlan.tci == 0x1005' : ''}`;
  let l3: string;
  switch (c.kind) {
    case 'arp':
      l3 = `arp.op == ${c.arpOp} && arp.sha == ${s.mac} && arp.spa == ${s.ip} && arp.tha == ${c.arpOp === 2 ? c.dstMac : '00:00:00:00:00:00'} && arp.tpa == ${c.dst4}`;
      break;
    case 'tcp4':
    case 'udp4':
      l3 = `ip4.src == ${s.ip} && ip4.dst == ${c.dst4} && ip.ttl == ${c.ttl} && ${c.kind.slice(0, 3)}.src == ${c.sport} && ${c.kind.slice(0, 3)}.dst == ${c.dport}`;
      break;
    case 'icmp4':
      l3 = `ip4.src == ${s.ip} && ip4.dst == ${c.dst4} && ip.ttl == ${c.ttl} && icmp4.type == 8 && icmp4.code == 0`;
      break;
    case 'tcp6':
    case 'udp6':
      l3 = `ip6.src == ${s.ip6} && ip6.dst == ${c.dst6} && ip.ttl == ${c.ttl} && ${c.kind.slice(0, 3)}.src == ${c.sport} && ${c.kind.slice(0, 3)}.dst == ${c.dport}`;
      break;
    case 'icmp6':
      l3 = `ip6.src == ${s.ip6} && ip6.dst == ${c.dst6} && ip.ttl == ${c.ttl} && icmp6.type == 128 && icmp6.code == 0`;
      break;
    case 'ns':
      l3 = `nd_ns && ip6.src == ${s.ip6} && ip6.dst == ${c.dst6} && nd.target == ${c.dst6 === 'ff02::1:ff00:11' ? 'fd00::11' : c.dst6} && nd.sll == ${s.mac}`;
      break;
    case 'na':
      l3 = `nd_na && ip6.src == ${s.ip6} && ip6.dst == ${c.dst6} && nd.target == ${s.ip6} && nd.tll == ${s.mac}`;
      break;
    default:
      l3 = 'eth.type == 0x88b5';
  }
  const v6 = ['tcp6', 'udp6', 'icmp6', 'ns', 'na'].includes(c.kind);
  const own = pods.findIndex((p) => p.name === c.inport);
  const b = c.selfBackend && own >= 0 && own < 3 ? own : c.backend % 3;
  const backend = v6 ? `[${pods[b]!.ip6}]:80` : `${pods[b]!.ip}:${c.kind === 'udp4' ? 53 : 80}`;
  return { micro: `${l2} && ${l3}`, opts: [...c.ct.map((x) => `--ct=${x}`), ...(c.pinLb ? [`--lb-dst=${backend}`] : [])] };
}

/**
 * The Southbounds the interpreter is checked on: northd's usual one, and the one it writes when a chassis lacks
 * `ct-no-masked-label` (northd.c build_chassis_features, v23.03.1: any chassis without `other_config` saying so —
 * an ovn-controller older than the feature, as in a cluster not fully upgraded): `ct_lb` for `ct_lb_mark` and
 * `ct_label.blocked` for `ct_mark.blocked`. A Chassis row of our own (no ovn-controller) makes northd write it.
 */
const VARIANTS = [
  { name: 'every chassis with ct-no-masked-label (ct_lb_mark, ct_mark.blocked)', oldChassis: false, runs: RUNS, lb: 'ct_lb_mark' },
  { name: 'a chassis without ct-no-masked-label (ct_lb, ct_label.blocked)', oldChassis: true, runs: LABEL_RUNS, lb: 'ct_lb' },
] as const;

describe.skipIf(unavailable !== undefined).each(VARIANTS)('the logical-flow interpreter against ovn-trace on real northd flows: $name', ({ oldChassis, runs, lb }) => {
  let ovn: OvnOracle;
  let sb: SouthboundState;
  beforeAll(() => {
    ovn = new OvnOracle();
    const nb = (...a: string[]): string => ovn.nbctl(...a);
    ovn.addLocalnetSwitch();
    for (const p of pods) {
      nb('lsp-add', 'ls', p.name, '--', 'lsp-set-addresses', p.name, `${p.mac} ${p.ip} ${p.ip6}`, '--', 'lsp-set-port-security', p.name, p.ps6 ? `${p.mac} ${p.ip} ${p.ip6}` : `${p.mac} ${p.ip}`);
    }
    // A router-type port whose router does not exist: a patch port without a peer, so ovn-trace stops there too.
    nb('lsp-add', 'ls', 'rp', '--', 'lsp-set-type', 'rp', 'router', '--', 'lsp-set-addresses', 'rp', 'router', '--', 'lsp-set-options', 'rp', 'router-port=lrp-none');
    nb('lb-add', 'lb0', `${VIP}:80`, pods.slice(0, 3).map((p) => `${p.ip}:80`).join(','), 'tcp');
    nb('lb-add', 'lb6', `[${VIP6}]:80`, pods.slice(0, 3).map((p) => `[${p.ip6}]:80`).join(','), 'tcp');
    nb('lb-add', 'lbu', `${UDP_VIP}:53`, pods.slice(0, 3).map((p) => `${p.ip}:53`).join(','), 'udp');
    nb('set', 'Load_Balancer', 'lbu', 'selection_fields=ip_src,ip_dst');
    nb('lb-add', 'lbn', NOPORT_VIP, pods.slice(0, 3).map((p) => p.ip).join(','));
    for (const lb of ['lb0', 'lb6', 'lbu', 'lbn']) nb('ls-lb-add', 'ls', lb);
    // ACLs on a port group with an address set, so the flows hold @port_groups, $address_sets and ACL stages.
    nb('pg-add', 'pg1', 'pod1', 'pod2');
    nb('create', 'Address_Set', 'name=as1', `addresses="${CLIENT.ip}","10.180.204.66"`);
    nb('acl-add', 'pg1', 'to-lport', '1001', 'outport == @pg1 && ip4.src == $as1 && tcp.dst == 80', 'allow-related');
    nb('acl-add', 'pg1', 'to-lport', '1000', 'outport == @pg1 && udp', 'drop');
    nb('acl-add', 'pg1', 'from-lport', '1000', 'inport == @pg1 && icmp6', 'reject');
    if (oldChassis) ovn.sbctl('chassis-add', 'old-chassis', 'geneve', '127.0.0.2');
    nb('--wait=sb', 'sync');
    sb = sbFromOvsdb(readOvsdbFile(ovn.sbBackup()));
    // The variant is the Southbound it claims: northd's load balancing and ACL-state flows in that form only.
    const actions = [...sb.flows.get('ls')!].map((f) => `${f.match} ${f.actions}`).join('\n');
    const other = lb === 'ct_lb' ? 'ct_lb_mark' : 'ct_lb';
    expect(actions).toMatch(new RegExp(`\\b${lb}\\(backends=`));
    expect(actions).not.toMatch(new RegExp(`\\b${other}\\b`));
    expect(actions).toContain(oldChassis ? 'ct_label.blocked' : 'ct_mark.blocked');
    expect(actions).not.toContain(oldChassis ? 'ct_mark.blocked' : 'ct_label.blocked');
  }, 60_000);
  afterAll(() => ovn?.stop());

  let ex: LflowExecutor | undefined;
  const ours = (c: Case): { text: string; error?: string } => {
    const { micro, opts } = microflowOf(c);
    ex ??= new LflowExecutor(sb, 'ls');
    configureAsOvnTrace(ex, opts);
    const w = parseMicroflow(micro, microflowEnv(ex, sb));
    // The frame built for the microflow decodes back to the same packet (the frame path and the flow agree).
    const f = frameFromFlow(w);
    const back = w.slice();
    loadFrame(f, decodeOnce(f), back);
    if (formatFlow(back) !== formatFlow(w)) return { text: `frame round trip: ${formatFlow(back)} != ${formatFlow(w)}` };
    const r = ex.runFlow(w, 0, true);
    return { text: oursAsOvnTrace(w, r.trace!) };
  };
  const theirs = async (c: Case): Promise<string> => {
    const { micro, opts } = microflowOf(c);
    const out = await ovn.traceAsync(['--detailed', '--summary', '--minimal', ...opts, 'ls', micro]);
    return realOvnTrace(out);
  };

  it(`traces identical to ovn-trace --detailed --summary --minimal (seed ${SEED}, ${runs} microflows)`, async () => {
    const cases = fc.sample(caseArb, { seed: SEED, numRuns: runs });
    const real: string[] = new Array(cases.length);
    let next = 0;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < cases.length) {
        const i = next++;
        real[i] = await theirs(cases[i]!);
      }
    }));
    const oracleMs = Date.now() - t0;
    const t1 = Date.now();
    const mine = cases.map(ours);
    const oursMs = Date.now() - t1;
    // A case whose first difference is a choice between two matching flows of one table and priority that share a
    // bucket of the IDL's hash map: OVS leaves that order undefined and ovn-trace takes the IDL's iteration order,
    // which inside a bucket follows the rows' insertion order — not in the Southbound file (see the executor's
    // tieBreaker). With northd's random uuids it happens now and then (uuids 1454d54d and 0cc2564d, mask 0xff: CI,
    // session 13); counted, bounded, and not a difference of the interpreter's.
    const mask = hmapMask(new Set([...sb.flows.values()].flatMap((l) => l.map((f) => f.uuid)).filter(Boolean)).size);
    const bucketTie = (i: number): boolean => sharedBucketTie(mine[i]!.text, real[i]!, mask);
    const ties = cases.filter((_, i) => mine[i]!.text !== real[i] && bucketTie(i)).length;
    const tiePairs = new Set(cases.map((_, i) => (mine[i]!.text !== real[i] ? bucketTiePair(mine[i]!.text, real[i]!, mask) : undefined)).filter((p) => p !== undefined));
    const failing = cases.findIndex((_, i) => mine[i]!.text !== real[i] && !bucketTie(i));
    const stats = { outputs: 0, drops: 0, lb: 0, hairpin: 0, acl: 0, kinds: new Set<string>(), ports: new Set<string>() };
    real.forEach((t, i) => {
      if (/output\("/.test(t)) stats.outputs++;
      else stats.drops++;
      if (t.includes(`${lb}(backends`)) stats.lb++;
      if (/reg0\[6\] = 1/.test(t)) stats.hairpin++;
      if (/@pg1/.test(t)) stats.acl++;
      stats.kinds.add(cases[i]!.kind);
      stats.ports.add(cases[i]!.inport);
    });
    console.log(`ovn-exec (${lb}): ${cases.length} microflows, seed ${SEED}; ovn-trace ${oracleMs} ms (${PARALLEL} at a time), vippath ${oursMs} ms; ${stats.outputs} with outputs, ${stats.drops} without, ${stats.lb} through ${lb}(backends), ${stats.hairpin} hairpinned, ${stats.acl} through a port-group ACL; ${ties} at a tie of flows sharing an IDL hash bucket (order undefined; mask 0x${mask.toString(16)}${tiePairs.size ? `; pairs ${[...tiePairs].join(', ')}` : ''})`);
    // Bounded by distinct pairs, not microflows: one pair on a busy table ties every microflow through it (CI, session
    // 28: one pair, 116 of 1 000); a wrong bucket order would tie many pairs.
    expect(tiePairs.size, `ties in a shared hash bucket are rare (else the bucket order is wrong): ${[...tiePairs].join(', ')}`).toBeLessThanOrEqual(2);
    if (failing >= 0) {
      // Shrink: replay the same generator with fast-check up to the first failure, which then shrinks it.
      let shrunk = '';
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const a = ours(c).text;
          const b = await theirs(c);
          if (a !== b) shrunk = `${microflowOf(c).opts.join(' ')} ls '${microflowOf(c).micro}'\n${firstDifference(a, b, 'ovn-trace')}`;
          return a === b;
        }),
        { seed: SEED, numRuns: failing + 1 },
      ).catch(() => undefined);
      const c = cases[failing]!;
      throw new Error(`case ${failing}: ovn-trace ${microflowOf(c).opts.join(' ')} ls '${microflowOf(c).micro}'\n${firstDifference(mine[failing]!.text, real[failing]!, 'ovn-trace')}\nshrunk: ${shrunk}\nreplay with VIPPATH_OVNEXEC_SEED=${SEED}`);
    }
    // The generator must reach what the issue names: every kind of port and packet, drops and outputs, LB.
    expect(stats.kinds.size).toBe(10);
    expect(stats.ports.size).toBe(6);
    expect(stats.lb).toBeGreaterThan(0);
    expect(stats.hairpin).toBeGreaterThan(0);
    expect(stats.acl).toBeGreaterThan(0);
    expect(stats.outputs).toBeGreaterThan(runs / 10);
    expect(stats.drops).toBeGreaterThan(runs / 10);
  }, 180_000);
});

describe('ties between flows sharing an IDL hash bucket', () => {
  // The lines of CI's failing case (session 13): two priority-110 flows of ls_out_pre_acl both matching.
  const ours = '    0. ls_out_pre_acl (northd.c:5911): eth.mcast, priority 110, uuid 1454d54d';
  const theirs = '    0. ls_out_pre_acl (northd.c:5809): ip && outport == "ln", priority 110, uuid 0cc2564d';
  it('is a tie only for the same table, stage and priority, different uuids in one bucket under the mask', () => {
    expect(sharedBucketTie(`a\n${ours}\nx`, `a\n${theirs}\ny`, 0xff)).toBe(true);
    expect(sharedBucketTie(`a\n${ours}`, `a\n${theirs}`, 0x1ff)).toBe(false);
    expect(sharedBucketTie(`a\n${ours}`, `a\n${theirs.replace('priority 110', 'priority 100')}`, 0xff)).toBe(false);
    expect(sharedBucketTie(`a\n${ours}`, `b\n${theirs}`, 0xff)).toBe(false);
    expect(bucketTiePair(`a\n${ours}\nx`, `a\n${theirs}\ny`, 0xff)).toBe('0cc2564d/1454d54d');
    expect(bucketTiePair(`a\n${theirs}`, `a\n${ours}`, 0xff)).toBe('0cc2564d/1454d54d');
    expect(bucketTiePair(`a\n${ours}`, `a\n${theirs}`, 0x1ff)).toBeUndefined();
    expect(hmapMask(1)).toBe(0);
    expect(hmapMask(300)).toBe(0xff);
    expect(hmapMask(600)).toBe(0x1ff);
  });
});
