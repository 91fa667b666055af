/**
 * Differential test: vippath's conntrack engine (`OvsConntrack`, packages/ovn/src/ct) against the real
 * userspace conntrack of ovs-vswitchd 3.1 (dummy datapath). fast-check generates conversations — TCP
 * handshakes, data, retransmissions, out-of-window segments, FIN/RST, bad flag combinations, UDP, ICMP echo,
 * ICMP errors embedding 8 bytes, a whole header or the whole packet — over IPv4 or IPv6, each packet sent
 * through one of several `ct()` pipelines chosen by its in_port (ct_next, commit, DNAT, NAT apply, SNAT,
 * mark/label writes, OVN's ct_lb pattern, ct_next-then-commit, force, two zones as OVN's ingress and egress
 * pipelines use them, a port rewrite between two ct() of one zone, DNAT to an address only, SNAT to one address
 * and port). Conversations of two or three live connections whose NAT reply tuples collide (collideConvArb) put
 * the NAT port search and tuple exhaustion before OVS too; two connections whose keys differ in one word only
 * (wordConvArb: a port, one address word, the zone, the protocol) the key compares; a client reaching itself through
 * the VIP (hairpinConvArb), with OVN's hairpin SNAT and without, the connections whose two ends share an address;
 * IPv4 options and IPv6 extension headers on packets and inside ICMP errors (extConvArb) the offsets; TCP option
 * layouts and windows (optsConvArb) the window scale each SYN gives and the bounds built on it; NAT to a port
 * range (rangeConvArb) the range's search and exhaustion, up to which free port OVS's randomly seeded hash picks.
 * IP fragments (fragConvArb) OVS reassembles and the engine does not: there the test pins the difference. A
 * rewrite between two ct() of one zone (rewriteConvArb): whether the second answers from the connection the first
 * remembered or looks the rewritten packet up; the same with a first ct() with NAT (natFirstConvArb), after which
 * OVS remembers none. NAT without a target (nullNatConvArb): `ct(commit,nat)` on a new connection, whose reply key
 * OVS makes `src=0.0.0.0,…,dport=0`, and `nat(src)` / `nat(dst)` without a range.
 * OVS copies the packet's ct_state and ct_mark into its Ethernet source and outputs it: the bytes out (NAT rewrites,
 * checksums, state, mark) must be identical, and at the end of each conversation `dpctl/dump-conntrack -s` must
 * list the same connections with the same timeouts. Each generated conversation runs the engine three ways on the
 * same packets — `execute` (the result object), `executeHinted` (the connection replay's entry) and `executeWords`
 * (the executor's entry, ct fields in flow words) — each compared with OVS.
 *
 * Time: ovs-vswitchd's clock is stopped (`time/stop`, OvsOracle.stopTime) and moves only by `time/warp`, the
 * silences of expiryConvArb — OVS's timeouts from the last packet and the engine's next expiration, a second or a
 * millisecond before it or at it — after each of which both tables, timeouts printed, must agree. In OVS 3.1
 * (lib/conntrack.c v3.1.0) an entry is expired when `now >= expiration` (conn_expired, line 2446): lookups pass over
 * it (conn_key_lookup, 589), so does the dump (conntrack_dump_next, 2639), which prints `(expiration − now) / 1000`
 * whole seconds (conn_to_ct_dpif_entry, 2594), and the clean thread frees it and its zone-limit count whenever it
 * wakes (clean_thread_main 1538 → ct_sweep 1491 → conn_clean 494): 20 s after its last sweep, and at every warp. The
 * engine agrees at the boundary (expiration == now is expired in lookupKey, hinted, hintedTcp4, connections, sweep).
 * When the clean thread runs is real time, not OVS's clock, and two things in 3.1.0 depend on it: an expired NAT
 * connection's reverse entry (CT_CONN_TYPE_UN_NAT, which conn_expired never calls expired) stays findable until the
 * sweep — a reply meeting it is +inv ("Missing parent conn", process_one 1317), a NAT search avoids its tuple — and
 * an expired entry holds its zone-limit count until then. So each warp waits for the sweep it causes (OvsOracle.warp)
 * and packets meet a swept table, deterministically; a connection force-expired without a warp (expiration 0) still
 * cuts its conversation (see the cut in compare).
 *
 * Cases: VIPPATH_CT_CASES (default 100 conversations), VIPPATH_CT_EST_CASES (25), VIPPATH_CT_WRAP_CASES (25),
 * VIPPATH_CT_COLLIDE_CASES (40), VIPPATH_CT_EXPIRY_CASES (40), VIPPATH_CT_WORD_CASES (40),
 * VIPPATH_CT_HAIRPIN_CASES (25), VIPPATH_CT_EXT_CASES (20), VIPPATH_CT_FRAG_CASES (30), VIPPATH_CT_RANGE_CASES (20),
 * VIPPATH_CT_REWRITE_CASES (100), VIPPATH_CT_NATFIRST_CASES (50), VIPPATH_CT_UNNAT_CASES (40), VIPPATH_CT_NULLNAT_CASES (25), VIPPATH_CT_OPTS_CASES (100); seed printed, VIPPATH_CT_SEED replays (`random`
 * explores); VIPPATH_CT_SHRINK=0 reports a failing conversation unshrunk (shrinking one under load can outlast the
 * test's time limit).
 */
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CtReason, CtState } from '@vippath/ovn';
import { checksumAdjust16, DecodedFrame, FrameDecoder, formatIPv4, internetChecksum, parseIPv4, parseIPv6, read16, read32, rewriteIpv4Address, rewriteIpv6Address, rewritePort, write16, write32 } from '@vippath/wire';
import { OvsConntrack, type CtConnectionInfo, type CtTupleInfo, type OvsConntrackOptions } from '../packages/ovn/src/ct/engine.js';
import { F, frame, icmpError, long6, Runner, tupleOf, tupleView, type CtCall, type TupleView } from '../packages/ovn/src/ct/packets.test-helpers.js';
import { tcpWscale } from '../packages/ovn/src/ct/tcp.js';
import { OvsOracle, ovsUnavailable } from './ovs-harness.js';

const unavailable = ovsUnavailable();
if (unavailable) console.warn(`conntrack differential test skipped: ${unavailable}`);
const CASES = Number(process.env.VIPPATH_CT_CASES ?? 100);
const SEED = process.env.VIPPATH_CT_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_CT_SEED ?? 20261201);

const OUT = 9;
/**
 * The dumps compared with OVS's `dpctl/dump-conntrack -m -s`: timeouts, and each TCP peer's own state, window scale
 * and flags (the verbose protoinfo), where the plain dump shows one coalesced state — so a scale taken from a SYN,
 * a mid-stream pickup's BE_LIBERAL and SYN_RECV against ESTABLISHED are compared with OVS, not only inferred from
 * the segments they admit.
 */
const DUMP_MS = { stats: true, verbose: true } as const;
/** The verbose TCP protoinfo a dump line of OVS's shows: scales, flags, and peers in different states. */
function dumpFeatures(line: string): string[] {
  const p = /protoinfo=\(state_orig=(\w+),state_reply=(\w+)(?:,wscale_orig=(\d+),wscale_reply=(\d+))?,flags_orig=([\w|]+),flags_reply=([\w|]+)\)/.exec(line);
  if (!p) return [];
  const out: string[] = [];
  if (p[1] !== p[2]) out.push('peers in different states');
  if (p[1] === 'SYN_RECV' || p[2] === 'SYN_RECV') out.push('SYN_RECV');
  if (p[3] !== undefined) out.push(p[3] !== '0' && p[4] !== '0' ? 'both scales' : 'one scale');
  if (`${p[5]}|${p[6]}`.includes('WINDOW_SCALE')) out.push('WINDOW_SCALE');
  if (`${p[5]}|${p[6]}`.includes('BE_LIBERAL')) out.push('BE_LIBERAL');
  if (p[5]!.includes('|') || p[6]!.includes('|')) out.push('two flags');
  return out;
}
const IN_PORTS = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33];
/**
 * A second zone for the conversations whose connections differ in the zone only (wordConvArb): 261 = 0x105 differs
 * from 5 in its high byte. Ports 20–24 run the pipelines of ports 2, 7, 1, 4 and 3 in it.
 */
const ZONE_ALT = 261;
const ZONE_ALT_PORT: Record<number, number> = { 2: 20, 7: 21, 1: 22, 4: 23, 3: 24 };
const ZONE_ALT_BASE: Record<number, number> = Object.fromEntries(Object.entries(ZONE_ALT_PORT).map(([base, alt]) => [alt, Number(base)]));
// C2 and V2: a second client and a second VIP, for the conversations of several connections (collideConvArb).
const ADDR = {
  4: { C: '10.0.0.1', C2: '10.0.0.2', V: '10.96.0.10', V2: '10.96.0.11', B: '10.1.0.5', S: '192.0.2.1' },
  6: { C: 'fd00::1', C2: 'fd00::2', V: 'fd00:96::10', V2: 'fd00:96::11', B: 'fd00:1::5', S: 'fd00:ff::1' },
} as const;

function flows(): string[] {
  const lines: string[] = [];
  for (const fam of [4, 6] as const) {
    const m = fam === 4 ? 'ip' : 'ipv6';
    const a = ADDR[fam];
    const b = fam === 4 ? `${a.B}:8080` : `[${a.B}]:8080`;
    const s = fam === 4 ? a.S : `[${a.S}]`;
    const c = fam === 4 ? a.C : `[${a.C}]`;
    const v = fam === 4 ? a.V : `[${a.V}]`;
    lines.push(
      `table=0,${m},in_port=1,actions=ct(zone=5,table=1)`,
      `table=0,${m},in_port=2,actions=ct(commit,zone=5,table=1)`,
      `table=0,${m},in_port=3,actions=ct(commit,zone=5,nat(dst=${b}),table=1)`,
      `table=0,${m},in_port=4,actions=ct(zone=5,nat,table=1)`,
      `table=0,${m},in_port=5,actions=ct(commit,zone=5,nat(src=${s}),table=1)`,
      `table=0,${m},in_port=6,actions=ct(commit,zone=5,exec(set_field:0x3/0x3->ct_mark,set_field:0x80000000000000000000000000000001/0x80000000000000000000000000000001->ct_label),table=1)`,
      `table=0,${m},in_port=7,actions=ct(zone=5,nat,table=2)`,
      `table=2,priority=10,${m},in_port=7,ct_state=+new-inv+trk,actions=ct(commit,zone=5,nat(dst=${b}),table=1)`,
      `table=0,${m},in_port=8,actions=ct(zone=5,table=2)`,
      `table=2,priority=10,${m},in_port=8,ct_state=+new-inv+trk,actions=ct(commit,zone=5,exec(set_field:0x4/0x4->ct_mark),table=1)`,
      `table=0,${m},in_port=10,actions=ct(commit,force,zone=5,table=1)`,
      // Two zones, as OVN's ingress (inport's zone) and egress (outport's zone) pipelines use them.
      `table=0,${m},in_port=11,actions=ct(zone=5,nat,table=3)`,
      `table=3,priority=10,${m},in_port=11,actions=ct(zone=6,table=1)`,
      `table=0,${m},in_port=12,actions=ct(commit,zone=5,nat(dst=${b}),table=3)`,
      `table=3,priority=10,${m},in_port=12,actions=ct(commit,zone=6,table=1)`,
      `table=0,${m},in_port=13,actions=ct(zone=6,table=3)`,
      `table=3,priority=10,${m},in_port=13,actions=ct(zone=5,nat,table=1)`,
      // A rewrite between two ct() in one zone: the second finds the connection by the original tuple.
      `table=0,${m},in_port=14,actions=ct(commit,zone=5,nat(dst=${b}),table=3)`,
      `table=3,priority=10,${m},in_port=14,actions=ct(zone=5,table=1)`,
      `table=3,priority=20,${fam === 4 ? 'tcp' : 'tcp6'},in_port=14,actions=mod_tp_src:4660,ct(zone=5,table=1)`,
      `table=3,priority=20,${fam === 4 ? 'udp' : 'udp6'},in_port=14,actions=mod_tp_src:4660,ct(zone=5,table=1)`,
      // DNAT to an address only (no port: the destination port kept, only the source port searched on a collision)
      // and SNAT to one address and one port (a second connection to the same server finds no free tuple). Both
      // are deterministic: a range of one needs no hash (OVS's hash basis is random per process).
      `table=0,${m},in_port=15,actions=ct(commit,zone=5,nat(dst=${fam === 4 ? a.B : `[${a.B}]`}),table=1)`,
      `table=0,${m},in_port=16,actions=ct(commit,zone=5,nat(src=${s}:20000),table=1)`,
      // Hairpin (hairpinConvArb): the VIP's backend is the client itself. 17 is OVN's pattern: ct_lb's DNAT to
      // C:8080, then the hairpin SNAT to the VIP in another zone (ct_snat_to_vip); 18 its reply, un-SNAT then
      // un-DNAT. 25 is the DNAT alone (the reply tuple C:8080 → C: one address at both ends), 19 DNAT to C with
      // the port kept.
      `table=0,${m},in_port=17,actions=ct(zone=5,nat,table=4)`,
      `table=4,priority=10,${m},in_port=17,ct_state=+new-inv+trk,actions=ct(commit,zone=5,nat(dst=${c}:8080),table=5)`,
      `table=5,priority=10,${m},in_port=17,actions=ct(commit,zone=6,nat(src=${v}),table=1)`,
      `table=0,${m},in_port=18,actions=ct(zone=6,nat,table=6)`,
      `table=6,priority=10,${m},in_port=18,actions=ct(zone=5,nat,table=1)`,
      `table=0,${m},in_port=19,actions=ct(commit,zone=5,nat(dst=${c}),table=1)`,
      `table=0,${m},in_port=25,actions=ct(zone=5,nat,table=2)`,
      `table=2,priority=10,${m},in_port=25,ct_state=+new-inv+trk,actions=ct(commit,zone=5,nat(dst=${c}:8080),table=1)`,
      // NAT to a range of three ports (rangeConvArb): SNAT to S:20000–20002, DNAT to B:8080–8082. Where in a range
      // a connection lands depends on a hash of OVS's random per-process basis; the test relabels.
      `table=0,${m},in_port=26,actions=ct(commit,zone=5,nat(src=${s}:20000-20002),table=1)`,
      `table=0,${m},in_port=27,actions=ct(commit,zone=5,nat(dst=${fam === 4 ? a.B : `[${a.B}]`}:8080-8082),table=1)`,
      // NAT without a target (nullNatConvArb): `nat` committing (OVN's ct_commit_nat), alone, then a second ct() of
      // the zone (32), then a commit with DNAT (33); `nat(src)` and `nat(dst)` without a range (30, 31).
      `table=0,${m},in_port=29,actions=ct(commit,zone=5,nat,table=1)`,
      `table=0,${m},in_port=30,actions=ct(commit,zone=5,nat(src),table=1)`,
      `table=0,${m},in_port=31,actions=ct(commit,zone=5,nat(dst),table=1)`,
      `table=0,${m},in_port=32,actions=ct(commit,zone=5,nat,table=2)`,
      `table=2,priority=10,${m},in_port=32,actions=ct(zone=5,table=1)`,
      `table=0,${m},in_port=33,actions=ct(commit,zone=5,nat,table=3)`,
      `table=3,priority=10,${m},in_port=33,actions=ct(commit,zone=5,nat(dst=${b}),table=1)`,
      // Ports 2, 7, 1, 4, 3 in zone ZONE_ALT.
      `table=0,${m},in_port=20,actions=ct(commit,zone=${ZONE_ALT},table=1)`,
      `table=0,${m},in_port=21,actions=ct(zone=${ZONE_ALT},nat,table=2)`,
      `table=2,priority=10,${m},in_port=21,ct_state=+new-inv+trk,actions=ct(commit,zone=${ZONE_ALT},nat(dst=${b}),table=1)`,
      `table=0,${m},in_port=22,actions=ct(zone=${ZONE_ALT},table=1)`,
      `table=0,${m},in_port=23,actions=ct(zone=${ZONE_ALT},nat,table=1)`,
      `table=0,${m},in_port=24,actions=ct(commit,zone=${ZONE_ALT},nat(dst=${b}),table=1)`,
    );
    lines.push(...rewriteFlows(fam));
  }
  lines.push('table=2,priority=1,actions=resubmit(,1)', 'table=4,priority=1,actions=resubmit(,5)');
  lines.push(`table=1,actions=move:NXM_NX_CT_STATE[0..7]->NXM_OF_ETH_SRC[0..7],move:NXM_NX_CT_MARK[0..7]->NXM_OF_ETH_SRC[8..15],output:${OUT}`);
  return lines;
}

/** The same pipelines on the engine. */
function runEngine(r: Runner, f: Uint8Array, inPort: number, fam: 4 | 6): void {
  const a = ADDR[fam];
  const b = fam === 4 ? `${a.B}:8080` : `[${a.B}]:8080`;
  const c = fam === 4 ? a.C : `[${a.C}]`;
  const v = fam === 4 ? a.V : `[${a.V}]`;
  // Ports 20–24: the pipeline of another port, in zone ZONE_ALT.
  const port = ZONE_ALT_BASE[inPort] ?? inPort;
  const zone = port === inPort ? 5 : ZONE_ALT;
  const newOk = (): boolean => (r.res.state & (CtState.NEW | CtState.INV | CtState.TRK)) === (CtState.NEW | CtState.TRK);
  const calls: Record<number, CtCall> = {
    1: { zone },
    2: { zone, commit: true },
    3: { zone, commit: true, dnat: b },
    4: { zone, nat: 'apply' },
    5: { zone: 5, commit: true, snat: fam === 4 ? a.S : `[${a.S}]` },
    6: { zone: 5, commit: true, mark: [3, 3], label: [[1, 0, 0, 0x80000000], [1, 0, 0, 0x80000000]] },
    10: { zone: 5, force: true },
    15: { zone: 5, commit: true, dnat: fam === 4 ? a.B : `[${a.B}]` },
    16: { zone: 5, commit: true, snat: fam === 4 ? `${a.S}:20000` : `[${a.S}]:20000` },
    19: { zone: 5, commit: true, dnat: c },
    26: { zone: 5, commit: true, snat: fam === 4 ? `${a.S}:20000-20002` : `[${a.S}]:20000-20002` },
    27: { zone: 5, commit: true, dnat: fam === 4 ? `${a.B}:8080-8082` : `[${a.B}]:8080-8082` },
    29: { zone: 5, commit: true, nat: 'apply' },
    // `nat(src)` / `nat(dst)` without a range: a request with no address (all zero), for either family.
    30: { zone: 5, commit: true, snat: '0.0.0.0' },
    31: { zone: 5, commit: true, dnat: '0.0.0.0' },
  };
  r.res.reset();
  if (port === 7) {
    r.call(f, { zone, nat: 'apply' });
    if (newOk()) r.call(f, { zone, commit: true, dnat: b });
  } else if (port === 17) {
    r.call(f, { zone: 5, nat: 'apply' });
    if (newOk()) r.call(f, { zone: 5, commit: true, dnat: `${c}:8080` });
    r.call(f, { zone: 6, commit: true, snat: v });
  } else if (port === 18) {
    r.call(f, { zone: 6, nat: 'apply' });
    r.call(f, { zone: 5, nat: 'apply' });
  } else if (port === 25) {
    r.call(f, { zone: 5, nat: 'apply' });
    if (newOk()) r.call(f, { zone: 5, commit: true, dnat: `${c}:8080` });
  } else if (port === 11) {
    r.call(f, { zone: 5, nat: 'apply' });
    r.call(f, { zone: 6 });
  } else if (port === 12) {
    r.call(f, { zone: 5, commit: true, dnat: b });
    r.call(f, { zone: 6, commit: true });
  } else if (port === 13) {
    r.call(f, { zone: 6 });
    r.call(f, { zone: 5, nat: 'apply' });
  } else if (port === 14) {
    r.call(f, { zone: 5, commit: true, dnat: b });
    if (r.d.l4Offset >= 0 && (r.d.ipProto === 6 || r.d.ipProto === 17)) rewritePort(f, r.d, 0, 4660);
    r.call(f, { zone: 5 });
  } else if (port === 32) {
    r.call(f, { zone: 5, commit: true, nat: 'apply' });
    r.call(f, { zone: 5 });
  } else if (port === 33) {
    r.call(f, { zone: 5, commit: true, nat: 'apply' });
    r.call(f, { zone: 5, commit: true, dnat: b });
  } else if (port === 8) {
    r.call(f, { zone: 5 });
    if (newOk()) r.call(f, { zone: 5, commit: true, mark: [4, 4] });
  } else {
    r.call(f, calls[port]!);
  }
  f[11] = r.res.state & 0xff;
  f[10] = r.res.mark & 0xff;
}

// revHs, revHc, self, errH: the hairpin's packets (hairpinConvArb, Materializer.frame).
const KINDS = ['fwdV', 'fwdB', 'revV', 'revB', 'revS', 'errB', 'errV', 'errC', 'revHs', 'revHc', 'self', 'errH'] as const;
type Kind = (typeof KINDS)[number];
const TCP_FLAGS = [F.SYN, F.SYN | F.ACK, F.ACK, F.PSH | F.ACK, F.FIN | F.ACK, F.RST, F.RST | F.ACK, F.SYN | F.RST, F.FIN, F.ACK | F.URG];

// Weighted towards conversations that get somewhere (handshakes through the ct_lb pipeline, replies through NAT),
// with enough bad flags, stray sequence numbers and ICMP errors to reach inv and rel.
const w = <T,>(pairs: [T, number][]): T[] => pairs.flatMap(([v, n]) => Array<T>(n).fill(v));
const stepArb = fc.record({
  kind: fc.constantFrom<Kind>(...w<Kind>([['fwdV', 5], ['revB', 4], ['revV', 2], ['fwdB', 1], ['revS', 2], ['errB', 1], ['errV', 1], ['errC', 1]])),
  port: fc.constantFrom(...w([[7, 4], [4, 3], [3, 1], [1, 1], [2, 1], [5, 2], [6, 1], [8, 2], [10, 1], [11, 1], [12, 2], [13, 2], [14, 1]])),
  flags: fc.constantFrom(...w([[0, 3], [1, 3], [2, 4], [3, 4], [4, 2], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1]])),
  seqMode: fc.constantFrom(...w([['next', 8], ['retrans', 1], ['far', 1], ['back', 1]])),
  payload: fc.constantFrom(0, 0, 10, 100),
  wscale: fc.constantFrom<number | undefined>(undefined, undefined, 2),
  embed: fc.constantFrom(8, 20, 1000),
});
const convArb = fc.record({
  fam: fc.constantFrom<4 | 6>(4, 4, 6),
  proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp') as fc.Arbitrary<'tcp' | 'udp' | 'icmp'>,
  cport: fc.integer({ min: 1, max: 65535 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 12 }),
});
/**
 * Conversations of two or three live connections whose NAT tuples collide: one client (sometimes a second one)
 * from equal or adjacent source ports to two VIPs and two VIP ports, all DNATed to the one backend B:8080 (or to B
 * with the port kept, or SNATed to S, or to S:20000 only). A second connection's first reply tuple is then often a
 * live connection's, and the engine's port search (ct_lb's one-backend shortcut in natUniqueTuple falling back to
 * nat_get_unique_l4) is judged by OVS: the source port chosen, ct_state, and the replies at the moved port
 * translated back. The source ports sit at the edges of OVS's port classes (1–511, 600–1023 with 512–599 below it,
 * 1024–65535, 0) so a search wraps or starts outside its class. The steps are the mixed conversations' own (every
 * kind, flag, sequence mode and pipeline), so collisions meet the ordinary cases; a conversation may open with a
 * SYN (or datagram) per connection through one DNAT pipeline, which makes the collision sure.
 */
const COLLIDE_CASES = Number(process.env.VIPPATH_CT_COLLIDE_CASES ?? 40);
const CPORT_BASES = [40000, 40000, 40000, 1, 510, 511, 550, 599, 1023, 65534, 65535];
const connArb = fc.record({
  client: fc.constantFrom<0 | 1>(0, 0, 0, 1),
  off: fc.constantFrom(0, 0, 1, 2),
  vip: fc.constantFrom<0 | 1>(0, 1),
  vport: fc.constantFrom(80, 80, 443),
});
const collideStepArb = fc.record({
  kind: fc.constantFrom<Kind>(...w<Kind>([['fwdV', 6], ['revB', 4], ['revV', 1], ['fwdB', 1], ['revS', 2], ['errB', 1], ['errV', 1], ['errC', 1]])),
  port: fc.constantFrom(...w([[7, 4], [3, 2], [12, 2], [15, 2], [16, 2], [5, 2], [4, 3], [11, 1], [13, 1], [14, 1], [1, 1], [2, 1], [6, 1], [8, 1], [10, 1]])),
  flags: fc.constantFrom(...w([[0, 4], [1, 2], [2, 4], [3, 4], [4, 2], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1]])),
  seqMode: fc.constantFrom(...w([['next', 8], ['retrans', 1], ['far', 1], ['back', 1]])),
  payload: fc.constantFrom(0, 0, 10, 100),
  wscale: fc.constantFrom<number | undefined>(undefined, undefined, 2),
  embed: fc.constantFrom(8, 20, 1000),
  conn: fc.integer({ min: 0, max: 2 }),
});
const collideConvArb: fc.Arbitrary<Conv> = fc
  .record({
    fam: fc.constantFrom<4 | 6>(4, 4, 6),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp') as fc.Arbitrary<'tcp' | 'udp' | 'icmp'>,
    base: fc.constantFrom(...CPORT_BASES),
    conns: fc.array(connArb, { minLength: 2, maxLength: 3 }),
    opening: fc.constantFrom(0, 0, 7, 3, 12, 15, 5, 16),
    steps: fc.array(collideStepArb, { minLength: 1, maxLength: 12 }),
  })
  .map(({ fam, proto, base, conns, opening, steps }) => ({
    fam,
    proto,
    cport: base,
    conns: conns.map(({ client, off, vip, vport }) => ({ client, cport: (base + off) % 65536, vip, vport })),
    steps: [...(opening ? conns.map((_, conn): Step => ({ kind: 'fwdV', port: opening, flags: 0, seqMode: 'next', payload: 0, wscale: undefined, embed: 8, conn })) : []), ...steps],
  }));

/**
 * One connection of a conversation of several: which client, its port, which VIP and VIP port; wordConvArb's also
 * its own client or VIP address, protocol, or zone (its packets then enter at ZONE_ALT_PORT's ports).
 */
interface Conn {
  client: 0 | 1;
  cport: number;
  vip: 0 | 1;
  vport: number;
  src?: string;
  dst?: string;
  proto?: 'tcp' | 'udp' | 'icmp';
  zoneAlt?: boolean;
}
/**
 * A packet of the conversation, or (expiryConvArb) a silence: `gap` milliseconds, or `edge`: until the first live
 * connection's expiration plus `edge` ms (edgeGap).
 */
type Step = (typeof stepArb extends fc.Arbitrary<infer T> ? T : never) & { conn?: number; gap?: number; edge?: number; x?: boolean; opts?: number[]; win?: number; seqAt?: number; ackAt?: number };

/**
 * The silence of an `edge` step: from `r`'s now to the earliest expiration among its live connections, plus `edge`
 * (−1: the last millisecond; 0: the expiration itself). The expiration is found exactly by bisection on
 * `connections(t)` (a pure query: live means t < expiration); with nothing live, one second.
 */
function edgeGap(r: Runner, edge: number): number {
  const live = r.ct.connections(r.now).length;
  if (live === 0) return 1000;
  let lo = r.now;
  let hi = r.now + 86_400_001;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (r.ct.connections(mid).length < live) hi = mid;
    else lo = mid;
  }
  return Math.max(1, hi - r.now + edge);
}
/** A conversation: one connection (cport to V:80) unless `conns` lists several; a step's `conn` picks one. */
interface Conv {
  fam: 4 | 6;
  /** IPv4 options or IPv6 extension headers on the packets whose step has `x` (extConvArb). */
  ext?: Ext;
  proto: 'tcp' | 'udp' | 'icmp';
  cport: number;
  steps: Step[];
  conns?: Conn[];
  /** Each connection's first sequence numbers (default client 1000, server 5000): wrapConvArb's start below 2^32. */
  isn?: { client: number; server: number };
}

/**
 * Established IPv4 TCP conversations through the NAT pipelines: the handshake OVN's ct_lb pattern makes (SYN to
 * the VIP, the backend's SYN-ACK through NAT, the ACK), then mostly in-window data and ACKs both ways, with
 * retransmissions, out-of-window segments, FIN, RST and odd flags among them — what the hinted path answers or
 * must hand back to the plain one.
 */
const EST_CASES = Number(process.env.VIPPATH_CT_EST_CASES ?? 25);
const estStepArb = fc.record({
  kind: fc.constantFrom<Kind>(...w<Kind>([['fwdV', 5], ['revB', 4], ['revV', 1]])),
  port: fc.constantFrom(...w([[7, 4], [4, 3], [11, 1], [12, 1], [13, 1], [14, 1], [3, 1], [1, 1]])),
  flags: fc.constantFrom(...w([[2, 6], [3, 6], [4, 1], [5, 1], [9, 1], [8, 1]])),
  seqMode: fc.constantFrom(...w([['next', 12], ['retrans', 1], ['far', 1], ['back', 1]])),
  payload: fc.constantFrom(0, 0, 10, 100),
  wscale: fc.constant<number | undefined>(undefined),
  embed: fc.constant(8),
});
const handshake: Conv['steps'] = [
  { kind: 'fwdV', port: 7, flags: 0, seqMode: 'next', payload: 0, wscale: undefined, embed: 8 },
  { kind: 'revB', port: 4, flags: 1, seqMode: 'next', payload: 0, wscale: undefined, embed: 8 },
  { kind: 'fwdV', port: 7, flags: 2, seqMode: 'next', payload: 0, wscale: undefined, embed: 8 },
];
const estConvArb: fc.Arbitrary<Conv> = fc.record({
  fam: fc.constant<4 | 6>(4),
  proto: fc.constant<'tcp' | 'udp' | 'icmp'>('tcp'),
  cport: fc.integer({ min: 1, max: 65535 }),
  steps: fc.array(estStepArb, { minLength: 6, maxLength: 16 }).map((steps) => [...handshake, ...steps]),
});

/**
 * Established conversations (as {@link estConvArb}) whose sequence numbers start just below 2^32 or 2^31 on either
 * side, so that they wrap (or cross 2^31) within a few steps: sequence numbers compare modulo 2^32 (RFC 9293 §3.4;
 * OVS lib/conntrack-tcp.c SEQ_GT/SEQ_GEQ are lib/util.h INT_MOD_GT/INT_MOD_GEQ, `(int)(a - b)` against 0), and the
 * pods choose their ISNs over all 32 bits (packages/cluster/src/pods.ts podIsn), so a pod's answers can wrap.
 */
const WRAP_CASES = Number(process.env.VIPPATH_CT_WRAP_CASES ?? 25);
const NEAR_WRAP = [0xffffffff, 0xfffffffe, 0xffffff9c, 0xffffff00, 0x7fffffff, 0x7fffff9c, 1000];
const wrapConvArb: fc.Arbitrary<Conv> = fc
  .record({ conv: estConvArb, client: fc.constantFrom(...NEAR_WRAP), server: fc.constantFrom(...NEAR_WRAP) })
  .map(({ conv, client, server }) => ({ ...conv, isn: { client, server } }));

/**
 * TCP option layouts and windows (optsConvArb): the option bytes a segment carries, built from pieces — NOP, EOL
 * (after which OVS reads no further), MSS, SACK-permitted, timestamps, a window scale option with any shift (0–14
 * as sent, 15 and above clamped to 14: lib/conntrack-tcp.c v3.1.0 tcp_get_wscale, `MIN(opt[2], TCP_MAX_WSCALE)`),
 * one whose length byte is wrong (0 or 1, stepped over as 2; 2, 4 or 5), and unknown kinds whose length is 0, 1 or
 * runs past the header's end — cut at 40 bytes and padded to a multiple of 4 with EOL or NOP. OVS reads the option
 * on a SYN only (tcp_conn_update's `tcp_flags & TCP_SYN` branches), and scales a peer's window only when both SYNs
 * carried one; the windows themselves (0, 1, 1000, 32 768 besides 65 535) move the bounds the far, back and
 * retransmitted segments meet, and some segments sit at those bounds (SEQ_EDGES) or at an acknowledgment's (ACK_EDGES). Every segment carries its step's layout, so the payload starts at a varying offset.
 */
const OPTS_CASES = Number(process.env.VIPPATH_CT_OPTS_CASES ?? 100);
const OPT_PIECES: number[][] = [[1], [1], [0], [2, 4, 0x05, 0xb4], [4, 2], [8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0], [30, 0], [31, 1], [254, 6, 1, 2, 3, 4], [253, 40]];
const optPieceArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constantFrom(...OPT_PIECES).map((p) => [...p]),
  fc.constantFrom(0, 0, 1, 2, 7, 13, 14, 14, 15, 200, 255).map((v) => [3, 3, v]),
  fc.tuple(fc.constantFrom(0, 1, 2, 4, 5), fc.constantFrom(1, 7, 14, 255)).map(([len, v]) => [3, len, v]),
);
const tcpOptsArb: fc.Arbitrary<number[]> = fc
  .tuple(fc.array(optPieceArb, { minLength: 1, maxLength: 5 }), fc.constantFrom(0, 1))
  .map(([pieces, pad]) => {
    const b = pieces.flat().slice(0, 40);
    while (b.length % 4 !== 0) b.push(pad);
    return b;
  });
/**
 * Offsets from a segment's next sequence number at the window bounds OVS checks (tcp_conn_update: `seq + len <=
 * seqhi + (win << sws)`-style upper bounds and `seq >= seqlo - (max_win << dws)`-style lower ones), a number either
 * side of 65 535 shifted by each scale the layouts give (lib/conntrack-tcp.c v3.1.0 tcp_conn_update).
 */
const SEQ_EDGES = [0, 1, 2, 7, 14].flatMap((k) => [65535 * 2 ** k, 65535 * 2 ** k + 1, -(65535 * 2 ** k), -(65535 * 2 ** k) - 1]);
/**
 * Offsets from the acknowledgment a segment would carry (the other side's next number) at the ACK bounds OVS checks:
 * `ackskew = receiver's seqlo − ack` within −MAXACKWINDOW … MAXACKWINDOW << sws (MAXACKWINDOW = 0xffff + 1500 =
 * 67 035: lib/conntrack-tcp.c v3.1.0, tcp_conn_update), at each end and one past it, for each shift the layouts give.
 */
const MAX_ACKWINDOW = 0xffff + 1500;
const ACK_EDGES = [0, 1, 2, 7, 14].flatMap((k) => [-(MAX_ACKWINDOW * 2 ** k), -(MAX_ACKWINDOW * 2 ** k) - 1]).concat([MAX_ACKWINDOW, MAX_ACKWINDOW + 1]);
const optsConvArb: fc.Arbitrary<Conv> = fc
  .record({
    conv: fc.oneof({ arbitrary: estConvArb, weight: 3 }, { arbitrary: convArb as fc.Arbitrary<Conv>, weight: 1 }),
    fam: fc.constantFrom<4 | 6>(4, 4, 6),
    // Per step: its option bytes (none for some), its window (65 535 for most).
    opts: fc.array(fc.option(tcpOptsArb, { freq: 4, nil: undefined }), { minLength: 40, maxLength: 40 }),
    win: fc.array(fc.constantFrom<number | undefined>(undefined, undefined, undefined, 0, 1, 1000, 32768), { minLength: 40, maxLength: 40 }),
    // Some segments at a window's edge under each shift instead of their next number (the stream does not move).
    seqAt: fc.array(fc.option(fc.constantFrom(...SEQ_EDGES), { freq: 3, nil: undefined }), { minLength: 40, maxLength: 40 }),
    // And some at an acknowledgment's bounds (the sequence number the next one).
    ackAt: fc.array(fc.option(fc.constantFrom(...ACK_EDGES), { freq: 4, nil: undefined }), { minLength: 40, maxLength: 40 }),
  })
  .map(({ conv, fam, opts, win, seqAt, ackAt }) => ({
    ...conv,
    proto: 'tcp' as const,
    fam,
    steps: conv.steps.map((s: Step, i: number): Step => ({ ...s, opts: opts[i % opts.length], win: win[i % win.length], ...(i >= 3 && seqAt[i % seqAt.length] !== undefined ? { seqAt: seqAt[i % seqAt.length] } : {}), ...(i >= 3 && ackAt[i % ackAt.length] !== undefined ? { ackAt: ackAt[i % ackAt.length] } : {}) })),
  }));

/** A step of the given kind through `port` (flags by TCP_FLAGS index), otherwise plain. */
const stepOf = (kind: Kind, port: number, flags = 2, payload = 0, conn?: number): Step => ({ kind, port, flags, seqMode: 'next', payload: payload as Step['payload'], wscale: undefined, embed: 8, ...(conn === undefined ? {} : { conn }) });

/**
 * Conversations with silences (expiryConvArb): one connection lives through its protocol's states — TCP's
 * SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT (one FIN), TIME_WAIT (both), CLOSED (after an RST); UDP's first,
 * single and multiple; ICMP's first and reply — through one of four pipelines (ct_lb's DNAT, a plain commit,
 * SNAT, DNAT then a second zone), with a gap after any packet. A gap is one of OVS's default timeouts
 * (lib/conntrack-tp.c v3.1.0 ct_dpif_netdev_tp_def: 30, 45, 60, 900 and 86 400 s) from the last packet: a second before it, a
 * millisecond before it, or exactly it — expired, since lib/conntrack.c v3.1.0 conn_expired is `now >= expiration`
 * — or a short one that moves later packets off those marks; or (`edge`) to the next expiration the engine holds, a
 * second or a millisecond before it or at it, wherever the connection was last refreshed. After the life, a few more
 * packets (scripted or any ordinary step) and gaps: what a connection that expired meets (a new one in its place, a
 * reply with no entry). After each gap ovs-vswitchd's clean thread has swept (OvsOracle.warp) and the tables,
 * printed timeouts included, must agree.
 */
const EXPIRY_CASES = Number(process.env.VIPPATH_CT_EXPIRY_CASES ?? 40);
const GAPS = [30, 45, 60, 900, 86_400].flatMap((t) => [t * 1000 - 1000, t * 1000 - 1, t * 1000]).concat([1, 999, 15_000]);
const PIPES = {
  lb: { fwd: 7, rev: ['revB', 4] },
  plain: { fwd: 2, rev: ['revV', 2] },
  snat: { fwd: 5, rev: ['revS', 4] },
  zones: { fwd: 12, rev: ['revB', 13] },
} as const;
/** Each protocol's life: [from the client?, TCP_FLAGS index, payload]. TCP's last four close it (or `rst` instead). */
const LIFE = {
  tcp: [[true, 0, 0], [false, 1, 0], [true, 2, 0], [true, 3, 10], [false, 3, 10], [true, 4, 0], [false, 2, 0], [false, 4, 0], [true, 2, 0]],
  udp: [[true, 0, 10], [true, 0, 10], [false, 0, 10], [true, 0, 10]],
  icmp: [[true, 0, 10], [false, 0, 10], [true, 0, 10]],
} as const satisfies Record<string, readonly (readonly [boolean, number, number])[]>;
/** A silence: one of GAPS, or to the engine's next expiration, a millisecond or a second before it or at it (edgeGap). */
const silenceArb: fc.Arbitrary<{ gap: number } | { edge: number }> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...GAPS).map((gap) => ({ gap })) },
  { weight: 3, arbitrary: fc.constantFrom(-1000, -1, -1, 0, 0).map((edge) => ({ edge })) },
);
const expiryTailArb = fc.oneof(
  { weight: 3, arbitrary: silenceArb },
  { weight: 3, arbitrary: fc.record({ fromClient: fc.boolean(), flags: fc.constantFrom(0, 1, 2, 3, 4, 6) }) },
  { weight: 2, arbitrary: stepArb },
);
const expiryConvArb: fc.Arbitrary<Conv> = fc
  .record({
    fam: fc.constantFrom<4 | 6>(4, 4, 6),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp') as fc.Arbitrary<'tcp' | 'udp' | 'icmp'>,
    cport: fc.integer({ min: 1, max: 65535 }),
    pipe: fc.constantFrom<keyof typeof PIPES>('lb', 'lb', 'plain', 'snat', 'zones'),
    cut: fc.integer({ min: 1, max: 9 }),
    rst: fc.constantFrom(false, false, true),
    gapsAfter: fc.array(fc.option(silenceArb, { freq: 2 }), { minLength: 9, maxLength: 9 }),
    tail: fc.array(expiryTailArb, { maxLength: 5 }),
  })
  .map(({ fam, proto, cport, pipe, cut, rst, gapsAfter, tail }) => {
    const p = PIPES[pipe];
    const packet = (fromClient: boolean, flags: number, payload: number): Step => (fromClient ? stepOf('fwdV', p.fwd, flags, payload) : stepOf(p.rev[0], p.rev[1], flags, payload));
    const life = LIFE[proto].slice(0, cut);
    const steps: Step[] = [];
    for (const [i, [fromClient, flags, payload]] of life.entries()) {
      // An RST from the client instead of its FIN: CLOSED rather than FIN_WAIT.
      steps.push(proto === 'tcp' && rst && i === 5 ? packet(true, 5, 0) : packet(fromClient, flags, payload));
      const silence = gapsAfter[i];
      if (silence) steps.push({ ...stepOf('fwdV', p.fwd), ...silence });
    }
    for (const t of tail) {
      if ('gap' in t || 'edge' in t) steps.push({ ...stepOf('fwdV', p.fwd), ...t });
      else if ('fromClient' in t) steps.push(packet(t.fromClient, t.flags, 0));
      else steps.push(t);
    }
    return { fam, proto, cport, steps };
  });

/**
 * Two connections whose keys differ in one word only (wordConvArb): the second is the first with one field
 * changed — the client port (an ICMP id), the VIP port, one word of the client's or the VIP's address (IPv6: any of
 * the four), the zone (5 against ZONE_ALT = 0x105: its ports run the same pipelines there) or the protocol (TCP
 * against UDP) — by one bit, low or high in its word. Each opens through the conversation's pipeline (ct_lb's DNAT
 * or a plain commit) or through a lookup alone (port 1: no entry, so the other's key is met right after a miss of
 * its own), TCP sometimes with whole handshakes; then packets of either follow each other. A compare that skips a
 * word finds the other connection. Where it is met: the hinted engine's hints are the packet kind's, whichever
 * connection's walk left them (hinted, hintedTcp4); the miss memo (lookupCk) holds the other's key after its miss;
 * and the table's chains, which a key one word apart shares only when both hash to one bucket — so compare runs
 * sixteen more engines, of other hash seeds and one slot each (sixteen buckets), in some of which they do.
 */
const WORD_CASES = Number(process.env.VIPPATH_CT_WORD_CASES ?? 40);
type Field = 'sport' | 'dport' | 'src' | 'dst' | 'zone' | 'proto';
/** Address text with bit `bit` of its word `word` (0 most significant) flipped. */
function flipBit(addr: string, word: number, bit: number): string {
  const b = addr.includes(':') ? parseIPv6(addr) : new Uint8Array([...addr.split('.').map(Number)]);
  const at = addr.includes(':') ? word * 4 : 0;
  write32(b, at, (read32(b, at) ^ (1 << bit)) >>> 0);
  if (b.length === 4) return [...b].join('.');
  return Array.from({ length: 8 }, (_, i) => read16(b, i * 2).toString(16)).join(':');
}
const wordStepArb = fc.record({
  kind: fc.constantFrom<Kind>(...w<Kind>([['fwdV', 5], ['revB', 4], ['revV', 2], ['fwdB', 1], ['errB', 1], ['errV', 1], ['errC', 1]])),
  port: fc.constantFrom(...w([[7, 4], [4, 3], [3, 1], [1, 3], [2, 2]])),
  flags: fc.constantFrom(...w([[0, 2], [1, 2], [2, 5], [3, 5], [4, 1], [5, 1], [6, 1], [8, 1]])),
  seqMode: fc.constantFrom(...w([['next', 8], ['retrans', 1], ['far', 1]])),
  payload: fc.constantFrom(0, 0, 10),
  wscale: fc.constant<number | undefined>(undefined),
  embed: fc.constantFrom(8, 1000),
  conn: fc.integer({ min: 0, max: 1 }),
});
const WORD_PIPES = { lb: { fwd: 7, rev: ['revB', 4] }, plain: { fwd: 2, rev: ['revV', 2] } } as const;
const wordConvArb: fc.Arbitrary<Conv & { field: Field }> = fc
  .record({
    fam: fc.constantFrom<4 | 6>(4, 6),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp') as fc.Arbitrary<'tcp' | 'udp' | 'icmp'>,
    cport: fc.integer({ min: 1, max: 65535 }),
    field: fc.constantFrom<Field>('sport', 'dport', 'src', 'dst', 'zone', 'proto'),
    word: fc.integer({ min: 0, max: 3 }),
    bit: fc.constantFrom(0, 8, 15, 16, 31),
    pipe: fc.constantFrom<keyof typeof WORD_PIPES>('lb', 'lb', 'plain'),
    lookupOnly: fc.constantFrom<[boolean, boolean]>([false, false], [false, false], [true, false], [false, true]),
    handshake: fc.boolean(),
    steps: fc.array(wordStepArb, { minLength: 2, maxLength: 12 }),
  })
  .map(({ fam, proto, cport, field, word, bit, pipe, lookupOnly, handshake, steps }) => {
    const a = ADDR[fam];
    // ICMP has no destination port and no protocol of the same key shape to switch to: its id or zone instead.
    const f: Field = proto === 'icmp' && field === 'dport' ? 'sport' : proto === 'icmp' && field === 'proto' ? 'zone' : field;
    const first: Conn = { client: 0, cport, vip: 0, vport: 80 };
    const second: Conn = { ...first };
    if (f === 'sport') second.cport = cport ^ (1 << (bit & 15));
    else if (f === 'dport') second.vport = 80 ^ (1 << (bit & 15));
    else if (f === 'src') second.src = flipBit(a.C, word, bit);
    else if (f === 'dst') second.dst = flipBit(a.V, word, bit);
    else if (f === 'zone') second.zoneAlt = true;
    else second.proto = proto === 'tcp' ? 'udp' : 'tcp';
    const p = WORD_PIPES[pipe];
    const opening = [0, 1].map((k) => stepOf('fwdV', lookupOnly[k] ? 1 : p.fwd, 0, 0, k));
    // Whole handshakes, the two connections' packets taking turns (established TCP is what the hinted path serves).
    if (handshake && proto === 'tcp') for (const [kind, port, flags] of [[p.rev[0], p.rev[1], 1], ['fwdV', p.fwd, 2]] as const) opening.push(stepOf(kind, port, flags, 0, 0), stepOf(kind, port, flags, 0, 1));
    return { fam, proto, cport, field: f, conns: [first, second], steps: [...opening, ...steps] };
  });

/**
 * Hairpin (hairpinConvArb): a client reaching its own service through the VIP, its backend being itself — OVN's
 * load balancer with hairpin SNAT (port 17: ct_lb's DNAT to C:8080, then SNAT to the VIP in zone 6; replies at 18,
 * un-SNAT then un-DNAT), the DNAT alone (25, replies C:8080 → C through ct(nat) at 4), DNAT to C with the port kept
 * (19), a packet from C to itself (a connection whose two keys are one) and C's ICMP errors about what the hairpin
 * sent it.
 */
const HAIRPIN_CASES = Number(process.env.VIPPATH_CT_HAIRPIN_CASES ?? 25);
const HAIRPIN_MOVES = w<[Kind, number]>([
  [['fwdV', 17], 4],
  [['revHs', 18], 4],
  [['fwdV', 25], 2],
  [['revHc', 4], 2],
  [['fwdV', 19], 1],
  [['revHc', 18], 1],
  [['revHc', 1], 1],
  [['self', 2], 1],
  [['self', 1], 1],
  [['self', 4], 1],
  [['self', 17], 1],
  [['errH', 18], 1],
]);
const hairpinConvArb: fc.Arbitrary<Conv> = fc
  .record({
    fam: fc.constantFrom<4 | 6>(4, 4, 6),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp') as fc.Arbitrary<'tcp' | 'udp' | 'icmp'>,
    cport: fc.integer({ min: 1, max: 65535 }),
    opening: fc.constantFrom<[Kind, number]>(['fwdV', 17], ['fwdV', 17], ['fwdV', 25], ['fwdV', 19], ['self', 2]),
    steps: fc.array(fc.record({ move: fc.constantFrom(...HAIRPIN_MOVES), step: stepArb }), { minLength: 1, maxLength: 10 }),
  })
  .map(({ fam, proto, cport, opening, steps }) => ({
    fam,
    proto,
    cport,
    conns: [{ client: 0, cport, vip: 0, vport: 80 }],
    steps: [stepOf(opening[0], opening[1], 0), ...steps.map(({ move, step }) => ({ ...step, kind: move[0], port: move[1] }))],
  }));

/**
 * IPv4 options and IPv6 extension headers (extConvArb): what a packet carries between its fixed IP header and its
 * L4 header. `v4`: option bytes (a multiple of 4, up to 40) after the 20-byte header; `v6`: headers chained after
 * the fixed one, in order; `where`: on the packet itself, on the packet an ICMP error embeds, or both.
 */
interface Ext {
  v4: number[];
  v6: (keyof typeof V6_EXT)[];
  where: 'outer' | 'inner' | 'both';
}
/**
 * IPv4 options: padding (NOP, EOL), Router Alert (RFC 2113), a timestamp (RFC 791, empty), record route with one
 * slot, forty NOPs (IHL 15), and bytes that are no valid option. Neither OVS nor the engine reads options (OVS's
 * miniflow_extract and conn_key_extract take the IHL only), so each must be skipped by its length and left as it is.
 */
const V4_OPTIONS: number[][] = [
  [1, 1, 1, 0],
  [0x94, 4, 0, 0],
  [0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  [7, 7, 4, 0, 0, 0, 0, 1],
  Array<number>(40).fill(1),
  [0xff, 0xff, 0xff, 0xff],
];
/**
 * IPv6 extension headers (RFC 8200 §4), each with its type: hop-by-hop and destination options padded by PadN (8
 * and 16 bytes), a routing header of type 0 with no segments left, and one of type 2 (RFC 6275) with one segment
 * left — whose address would be the final destination an end host's pseudo-header uses, which a middlebox's checksum
 * check (OVS's packet_csum_upperlayer6 takes the fixed header's addresses) does not.
 */
const V6_EXT = {
  hbh: [0, [0, 0, 1, 4, 0, 0, 0, 0]],
  hbh16: [0, [0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
  dst: [60, [0, 0, 1, 4, 0, 0, 0, 0]],
  rt0: [43, [0, 0, 0, 0, 0, 0, 0, 0]],
  rt2: [43, [0, 2, 2, 1, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99]],
} as const satisfies Record<string, readonly [number, readonly number[]]>;
/** `f` (an Ethernet frame, checksums valid) with `ext`'s options or extension headers; every checksum still valid. */
function withExt(f: Uint8Array, ext: Ext): Uint8Array {
  const v6 = read16(f, 12) === 0x86dd;
  const l3 = 14;
  if (!v6) {
    const n = ext.v4.length;
    const ihl = (f[l3]! & 15) * 4;
    if (n === 0 || ihl + n > 60) return f;
    const out = new Uint8Array(f.length + n);
    out.set(f.subarray(0, l3 + ihl));
    out.set(ext.v4, l3 + ihl);
    out.set(f.subarray(l3 + ihl), l3 + ihl + n);
    out[l3] = 0x40 | ((ihl + n) >> 2);
    write16(out, l3 + 2, read16(f, l3 + 2) + n);
    write16(out, l3 + 10, 0);
    write16(out, l3 + 10, internetChecksum(out, l3, ihl + n));
    return out;
  }
  if (ext.v6.length === 0) return f;
  const heads = ext.v6.map((k) => V6_EXT[k]);
  const n = heads.reduce((t, [, b]) => t + b.length, 0);
  const out = new Uint8Array(f.length + n);
  out.set(f.subarray(0, l3 + 40));
  out.set(f.subarray(l3 + 40), l3 + 40 + n);
  // The upper-layer length of the L4 checksum's pseudo-header is unchanged: only the payload length grows.
  write16(out, l3 + 4, read16(f, l3 + 4) + n);
  let at = l3 + 40;
  let nextAt = l3 + 6;
  const upper = f[l3 + 6]!;
  for (const [type, bytes] of heads) {
    out[nextAt] = type;
    out.set(bytes, at);
    nextAt = at;
    at += bytes.length;
  }
  out[nextAt] = upper;
  return out;
}

/**
 * Conversations (the mixed ones, the established ones, the colliding ones) whose packets carry IPv4 options or IPv6
 * extension headers (extConvArb), most of them but not all (a connection opened without and met with, or the
 * reverse), on the packet, on the packet an ICMP error embeds, or both: the same connection, state and NAT rewrite
 * at the shifted L4 offset, in OVS and in the engine.
 */
const EXT_CASES = Number(process.env.VIPPATH_CT_EXT_CASES ?? 20);
const extArb: fc.Arbitrary<Ext> = fc.record({
  v4: fc.array(fc.constantFrom(...V4_OPTIONS), { minLength: 1, maxLength: 2 }).map((os) => (os.flat().length <= 40 ? os.flat() : os[0]!)),
  v6: fc.array(fc.constantFrom(...(Object.keys(V6_EXT) as (keyof typeof V6_EXT)[])), { minLength: 1, maxLength: 3 }),
  where: fc.constantFrom<Ext['where']>('outer', 'both', 'inner'),
});
const extConvArb: fc.Arbitrary<Conv> = fc
  .record({
    conv: fc.oneof(convArb as fc.Arbitrary<Conv>, estConvArb, collideConvArb),
    // Half IPv6 (the generators' own lean to IPv4 would leave few extension headers).
    fam: fc.constantFrom<4 | 6>(4, 6),
    ext: extArb,
    on: fc.array(fc.constantFrom(true, true, true, false), { minLength: 40, maxLength: 40 }),
  })
  .map(({ conv, fam, ext, on }) => ({
    ...conv,
    fam,
    ext,
    // ICMP errors embedding the whole packet, mostly: 8 bytes after an IPv6 header end inside its extension headers.
    steps: conv.steps.map((s: Step, i: number): Step => ({ ...s, x: on[i % on.length]!, embed: i % 3 === 2 ? s.embed : 1000 })),
  }));

/**
 * NAT to a range of ports (rangeConvArb): two to five connections from one client, at equal or adjacent source ports,
 * to two VIPs and two VIP ports, through SNAT to S:20000–20002 (port 26: every connection's reply tuple is
 * V:vport → S:p, so a fourth to one VIP port finds none free) or DNAT to B:8080–8082 (port 27: the reply tuples
 * B:p → C:cport of one client port collide once three are taken, and the fourth moves its source port in its class).
 * Which free port OVS takes first is `min + hash % range` with a hash of its random per-process basis (lib/conntrack.c
 * v3.1.0 nat_range_hash, nat_get_unique_tuple), so the engine's choice is not OVS's byte for byte: the test checks that
 * each side's choice is in the range, relabels the engine's forward packet to OVS's ports, compares every other
 * byte, and sends each side's replies to its own ports (the outputs, translated back, must be equal). When a range is
 * full both must refuse at the same packet. The search over a range of three tries every port (attempts =
 * min(range, 128)), so whether a tuple is found does not depend on the hash; the random restarts after 128 tries
 * (nat_get_unique_l4's `random_uint32`) are not reached by ranges this small and are not compared.
 */
const RANGE_CASES = Number(process.env.VIPPATH_CT_RANGE_CASES ?? 20);
const rangeStepArb = fc.record({
  fwd: fc.boolean(),
  flags: fc.constantFrom(1, 2, 2, 3, 4),
  conn: fc.integer({ min: 0, max: 4 }),
});
const rangeConvArb = fc
  .record({
    fam: fc.constantFrom<4 | 6>(4, 4, 6),
    proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
    pipe: fc.constantFrom(26, 27),
    base: fc.constantFrom(40000, 510, 1023, 65535),
    count: fc.integer({ min: 2, max: 5 }),
    // A connection sometimes elsewhere (another VIP port for SNAT, another client port for DNAT): not in the crowd.
    stray: fc.array(fc.constantFrom(false, false, false, false, true), { minLength: 5, maxLength: 5 }),
    steps: fc.array(rangeStepArb, { maxLength: 8 }),
  })
  .map(({ fam, proto, pipe, base, count, stray, steps }) => {
    // SNAT: client ports base, base+1, … to one VIP port, so that they share the reply tuples V:80 → S:p. DNAT: one
    // client port to V:80, V:443, V2:80, V2:443, so that they share B:p → C:base.
    const targets: [0 | 1, number][] = [[0, 80], [0, 443], [1, 80], [1, 443]];
    const cs: Conn[] = Array.from({ length: count }, (_, i) => {
      const off = stray[i] && i > 0 ? 1 : 0;
      const [vip, vport] = pipe === 26 ? targets[off]! : targets[i % 4]!;
      return { client: 0 as const, cport: (base + (pipe === 26 ? i : off + Math.floor(i / 4))) % 65536 || 1, vip, vport };
    }).filter((c, i, all) => all.findIndex((d) => d.cport === c.cport && d.vip === c.vip && d.vport === c.vport) === i);
    const rev: Kind = pipe === 26 ? 'revS' : 'revB';
    return {
      pipe,
      conv: {
        fam,
        proto,
        cport: base,
        conns: cs,
        steps: [...cs.map((_, k) => stepOf('fwdV', pipe, 0, 0, k)), ...steps.map((st) => stepOf(st.fwd ? 'fwdV' : rev, st.fwd ? pipe : 4, st.fwd && st.flags === 1 ? 2 : st.flags, 0, st.conn))],
      } satisfies Conv,
    };
  });

/**
 * NAT without a target (nullNatConvArb): `ct(commit,nat)` — OVN's `ct_commit_nat`, which OVN's own flows use only on
 * `ct.rel && !ct.new`, but a user's logical flows may put anywhere — on new connections (in_port 29, then a second
 * ct() of the zone at 32, then a commit with DNAT at 33), and `nat(src)` / `nat(dst)` without a range (30, 31). OVS 3.1
 * (lib/conntrack.c v3.1.0 conn_not_found → nat_get_unique_tuple with no NAT flags) commits the first with the reply
 * key `src=0.0.0.0` (IPv6 `::`), TCP/UDP `dport=0`, and no translation: the server's replies find no connection (a
 * new one, or +inv: a SYN-ACK, an echo reply), and a second connection of one client to the same destination port
 * (ICMP: echo id) is refused (its reply key taken) whatever its VIP or source port; the other two translate to the
 * packet's own address (find_addr), +snat or +dnat, moving the source port only on a collision. One to three
 * connections of one or two clients to two VIPs and two VIP ports, each opened through one of these pipelines; then
 * packets both ways through them and the ordinary ones (ct(nat) alone, a plain commit, a lookup, ct_lb's DNAT), ICMP
 * errors about them.
 */
const NULLNAT_CASES = Number(process.env.VIPPATH_CT_NULLNAT_CASES ?? 25);
const NULL_NAT_PORTS = [29, 32, 33];
const nullNatStepArb = fc.record({
  kind: fc.constantFrom<Kind>(...w<Kind>([['fwdV', 6], ['revV', 5], ['revB', 1], ['fwdB', 2], ['revS', 1], ['errV', 1], ['errC', 1]])),
  port: fc.constantFrom(...w([[29, 5], [30, 2], [31, 2], [32, 2], [33, 2], [4, 3], [2, 2], [1, 2], [7, 1], [3, 2]])),
  flags: fc.constantFrom(...w([[0, 3], [1, 2], [2, 4], [3, 3], [4, 1], [5, 1], [6, 1], [8, 1]])),
  seqMode: fc.constantFrom(...w([['next', 8], ['retrans', 1], ['far', 1]])),
  payload: fc.constantFrom(0, 0, 10),
  wscale: fc.constant<number | undefined>(undefined),
  embed: fc.constantFrom(8, 1000),
  conn: fc.integer({ min: 0, max: 2 }),
});
const nullNatConvArb: fc.Arbitrary<Conv> = fc
  .record({
    fam: fc.constantFrom<4 | 6>(4, 6),
    proto: fc.constantFrom('tcp', 'udp', 'icmp') as fc.Arbitrary<'tcp' | 'udp' | 'icmp'>,
    cport: fc.constantFrom(40000, 40000, 600, 1),
    // Mostly one client and one VIP port: a second ct(commit,nat) connection then finds its reply key taken.
    conns: fc.array(
      fc.record({ client: fc.constantFrom<0 | 1>(0, 0, 0, 1), off: fc.constantFrom(0, 0, 1), vip: fc.constantFrom<0 | 1>(0, 1), vport: fc.constantFrom(80, 80, 80, 443) }),
      { minLength: 2, maxLength: 3 },
    ),
    opening: fc.array(fc.constantFrom(29, 29, 29, 32, 33, 33, 30, 31, 3), { minLength: 3, maxLength: 3 }),
    steps: fc.array(nullNatStepArb, { minLength: 2, maxLength: 8 }),
  })
  .map(({ fam, proto, cport, conns, opening, steps }) => ({
    fam,
    proto,
    cport,
    conns: conns.map(({ client, off, vip, vport }) => ({ client, cport: cport + off, vip, vport })),
    steps: [...conns.map((_, conn): Step => ({ ...stepOf('fwdV', opening[conn]!, 0), conn })), ...steps],
  }));

/**
 * IP fragments (fragConvArb). OVS 3.1's userspace datapath reassembles before conntrack (lib/ipf.c, on by default for
 * IPv4 and IPv6: `dpctl/ipf-get-status` prints "v4 enabled: 1", "v6 enabled: 1"): a fragment is held until its list
 * (addresses, id, protocol, zone) is whole, then the reassembled packet runs through ct() and the fragments leave
 * with its ct_state, ct_mark and NAT — a first fragment's L4 header as the rewritten packet's, every fragment's
 * addresses. A fragment other than the last that is smaller than `min v4 frag size` (1200 bytes) or `min v6 frag size`
 * (1280) is not taken ("frags too small") and reaches conntrack as it is: +inv+trk. The engine does not reassemble:
 * every fragment is +inv+trk (CtReason.FRAGMENT). So OVS and the engine agree on the small ones only; for the rest
 * the test pins what OVS does against the engine's answer for the whole packet: OVS's fragments are that answer cut
 * at the same offsets. An incomplete list stays held (nothing out); its fragments cost OVS memory until ipf's 15 s
 * (which the stopped clock never reaches: each conversation uses fresh IP ids).
 */
const FRAG_CASES = Number(process.env.VIPPATH_CT_FRAG_CASES ?? 30);
/** The fragments of the Ethernet frame `fr`, its IP data cut at `cuts` (multiples of 8), in offset order. */
function fragments(fr: Uint8Array, cuts: number[], id: number): Uint8Array[] {
  const ip = fr.subarray(14);
  const v6 = ip[0]! >> 4 === 6;
  const hl = v6 ? 40 : (ip[0]! & 15) * 4;
  const data = ip.subarray(hl);
  const bounds = [0, ...cuts, data.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = data.subarray(bounds[i]!, bounds[i + 1]!);
    const more = i + 2 < bounds.length;
    const fh = v6 ? 8 : 0;
    const b = new Uint8Array(hl + fh + piece.length);
    b.set(ip.subarray(0, hl));
    b.set(piece, hl + fh);
    if (v6) {
      // RFC 8200 §4.5: the fragment header carries the upper protocol; the fixed header names it (44).
      b[6] = 44;
      write16(b, 4, fh + piece.length);
      b[40] = ip[6]!;
      write16(b, 42, bounds[i]! | (more ? 1 : 0));
      write32(b, 44, id);
    } else {
      write16(b, 2, b.length);
      write16(b, 4, id & 0xffff);
      write16(b, 6, (more ? 0x2000 : 0) | (bounds[i]! >> 3));
      write16(b, 10, 0);
      write16(b, 10, internetChecksum(b, 0, hl));
    }
    const f = new Uint8Array(14 + b.length);
    f.set(fr.subarray(0, 14));
    f.set(b, 14);
    out.push(f);
  }
  return out;
}
/** One packet (UDP, a TCP SYN, an ICMP echo request) cut into 2–3 pieces, big or small, sent in some order. */
const fragConvArb = fc.record({
  fam: fc.constantFrom<4 | 6>(4, 6),
  proto: fc.constantFrom<'tcp' | 'udp' | 'icmp'>('udp', 'udp', 'tcp', 'icmp'),
  cport: fc.integer({ min: 1024, max: 65535 }),
  // Through a plain commit, ct_lb's DNAT, a lookup only, SNAT.
  port: fc.constantFrom(2, 7, 7, 1, 5),
  // Non-last pieces' data: 1376–1432 bytes (taken by ipf) or 8–160 (too small); the last's 8–1400.
  pieces: fc.array(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 172, max: 179 }) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 20 }) }), { minLength: 1, maxLength: 2 }),
  last: fc.integer({ min: 1, max: 175 }),
  order: fc.constantFrom('in', 'in', 'reverse', 'rotate'),
  // Leave one piece out: the list never completes.
  drop: fc.constantFrom(-1, -1, -1, -1, 0, 1),
  // A whole packet of the same connection first (so the fragments meet an entry), or not.
  before: fc.boolean(),
});

/**
 * A caller's rewrite between two ct() of one zone (rewriteConvArb, in_port 28). After a ct() that found (or
 * committed) a connection without NAT, OVS 3.1 remembers it on the packet (lib/conntrack.c set_cached_conn:
 * `pkt->md.conn`), and the packet's next ct() in that zone answers from it without a lookup (conntrack_execute →
 * process_one_fast) — unless an action in between forgot it: every datapath set action that changes an IP address
 * or an L4 port or ICMP type/code calls pkt_metadata_init_conn (lib/packets.c packet_set_ipv4_addr,
 * packet_set_ipv6_addr, packet_set_tcp_port, packet_set_udp_port, packet_set_sctp_port, packet_set_icmp, reached
 * from lib/odp-execute.c odp_set_ipv4 / odp_set_ipv6 / odp_set_tcp / odp_set_udp for OpenFlow's mod_nw_* / mod_tp_*
 * / set_field / move), and so does ct_clear (lib/conntrack.c conntrack_clear); an Ethernet address set does not
 * (odp_eth_set_addrs), nor a TTL or TOS set (odp_set_ipv4). The pipeline here: `ct(zone=5[,commit],table=10)` (or with
 * NAT: FIRSTS, natFirstConvArb), a rewrite (none, nw_src, nw_dst, tp_src, tp_dst, an Ethernet address, ct_clear),
 * `ct(zone=5[,commit][,nat…],table=1)` (plain, commit, nat, commit+DNAT to B:8080, commit+SNAT to S). The packet
 * selects each of the three in its Ethernet source (bytes 1–3; bytes 4–5 are where table 1 writes ct_state and ct_mark,
 * so byte 4 also selects the IPv6 word a `v6hi_*` rewrite writes) and carries the rewrite's value in its Ethernet
 * destination — the port (ICMP: type, code) in bytes 0–1, the address in bytes 2–5 — which the flows move into the
 * field (an IPv6 address's low 32 bits: the conversations' IPv6 addresses are fd00::/96 with the IPv4 ones as their low
 * word), so one table of flows serves every value the generator draws: addresses and ports of the conversation's
 * connections (the rewritten packet then often is another connection's, or the reverse of one), or others.
 * The corners past the 5-tuple: `icmp_type` / `icmp_code` (move into NXM_OF_ICMP_TYPE/CODE or NXM_NX_ICMPV6_TYPE/
 * CODE: xlate commits it as a set(icmp) or set(icmpv6) action (lib/odp-util.c commit_set_icmp_action, which makes
 * the datapath flow slow-path; each packet still runs packet_set_icmp); an echo whose type turns into another echo
 * type or a timestamp is another connection's or none's, into an error type or with a nonzero code +inv;
 * `v6hi_src` / `v6hi_dst` one of an IPv6 address's upper three words (packet_set_ipv6_addr compares all 128 bits);
 * SCTP ports (packet_set_sctp_port forgets, but OVS 3.1's conntrack keys SCTP without ports, as any protocol it
 * does not track, so the lookup after the forget finds the same connection; the one difference, process_one's
 * update moving it from FIRST to MULTIPLE where process_one_fast does not, is invisible with the default timeouts,
 * both 60 s: the corner compares the bytes, OVS's CRC32c update included, and the states); `back`, the address and
 * the port (ICMP: type) changed and restored through the stack before the second ct() (xlate commits only the net
 * change, none: the connection is kept); `ttl`, mod_nw_ttl and mod_nw_tos (packet_set_ipv4 / packet_set_ipv6 touch
 * the addresses only when they differ: kept). Keeping or forgetting shows only where the key changes — a lookup of
 * an unchanged key finds the connection kept, and a second run of the TCP tracker on the same segment gives the
 * same state — so `back`, `ttl` and SCTP pin the bytes and states, not the keep itself.
 * Connections are opened first (DNAT, plain commit or SNAT), then packets in both directions go through the pipeline.
 */
const REWRITE_CASES = Number(process.env.VIPPATH_CT_REWRITE_CASES ?? 100);
const RW_PORT = 28;
const RW_NAMES = ['C', 'C2', 'V', 'V2', 'B', 'S'] as const;
type RwName = (typeof RW_NAMES)[number];
const RW4: Record<RwName, number> = { C: 0x0a000001, C2: 0x0a000002, V: 0x0a60000a, V2: 0x0a60000b, B: 0x0a010005, S: 0xc0000201 };
/** A rewrite conversation's address for the 32-bit value `v`: IPv4, or IPv6 fd00::/96 with `v` as its low word. */
const rwAddr = (fam: 4 | 6, v: number): string => (fam === 4 ? formatIPv4(v >>> 0) : `fd00::${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`);
const REWRITES = ['none', 'nw_src', 'nw_dst', 'tp_src', 'tp_dst', 'eth', 'ct_clear', 'icmp_type', 'icmp_code', 'v6hi_src', 'v6hi_dst', 'back', 'ttl'] as const;
type Rewrite = (typeof REWRITES)[number];
const SECONDS = ['plain', 'commit', 'nat', 'dnat', 'snat'] as const;
type Second = (typeof SECONDS)[number];
/**
 * The first ct(): plain or commit, or with NAT (natFirstConvArb) — ct(nat) applying a connection's NAT (OpenFlow
 * refuses NAT with a range without commit), DNAT to B:8080 or to B alone, SNAT to S or to S:20000.
 */
const FIRSTS = ['plain', 'commit', 'nat', 'dnat', 'dnatA', 'snat', 'snatP'] as const;
type First = (typeof FIRSTS)[number];
/** The Ethernet destination the `eth` rewrite writes. */
const RW_ETH = [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];
/** The TTL (IPv6: hop limit) and TOS (IPv6: traffic class DSCP bits) the `ttl` rewrite writes. */
const RW_TTL = 9;
const RW_TOS = 0x20;

/** The rewrite pipeline's flows for one family (in_port RW_PORT, tables 10 and 11; table 1 outputs). */
function rewriteFlows(fam: 4 | 6): string[] {
  const m = fam === 4 ? 'ip' : 'ipv6';
  const B = rwAddr(fam, RW4.B);
  const S = rwAddr(fam, RW4.S);
  const b = fam === 4 ? `${B}:8080` : `[${B}]:8080`;
  const s = fam === 4 ? S : `[${S}]`;
  // Byte `at` of the Ethernet source is `v` (and byte `at2` is `v2`).
  const sel = (at: number, v: number, at2 = -1, v2 = 0): string => {
    const hex2 = (x: number): string => x.toString(16).padStart(2, '0');
    const val = [0, 0, 0, 0, 0, 0];
    const mask = [0, 0, 0, 0, 0, 0];
    val[at] = v;
    mask[at] = 0xff;
    if (at2 >= 0) {
      val[at2] = v2;
      mask[at2] = 0xff;
    }
    return `dl_src=${val.map(hex2).join(':')}/${mask.map(hex2).join(':')}`;
  };
  const addrField = (src: boolean): string => (fam === 4 ? `NXM_OF_IP_${src ? 'SRC' : 'DST'}[]` : `NXM_NX_IPV6_${src ? 'SRC' : 'DST'}[0..31]`);
  const whole = fam === 4 ? 'NXM_OF_IP_DST[]' : 'NXM_NX_IPV6_DST[]';
  const icmp = fam === 4 ? { m: 'icmp', type: 'NXM_OF_ICMP_TYPE[]', code: 'NXM_OF_ICMP_CODE[]' } : { m: 'icmp6', type: 'NXM_NX_ICMPV6_TYPE[]', code: 'NXM_NX_ICMPV6_CODE[]' };
  const l4s = [
    { m: 'tcp', src: 'NXM_OF_TCP_SRC[]', dst: 'NXM_OF_TCP_DST[]' },
    { m: 'udp', src: 'NXM_OF_UDP_SRC[]', dst: 'NXM_OF_UDP_DST[]' },
    { m: 'sctp', src: 'OXM_OF_SCTP_SRC[]', dst: 'OXM_OF_SCTP_DST[]' },
  ].map((p) => ({ ...p, m: fam === 4 ? p.m : `${p.m}6` }));
  const k = (r: Rewrite): number => REWRITES.indexOf(r);
  // IPv6 only (an IPv4 packet meets the priority-1 flow): word w of the address, from the top, is bytes 2–5.
  const v6hi = (r: 'v6hi_src' | 'v6hi_dst'): string[] =>
    fam === 4 ? [] : [0, 1, 2].map((w) => `${m},${sel(2, k(r), 4, w)},actions=move:NXM_OF_ETH_DST[0..31]->NXM_NX_IPV6_${r === 'v6hi_src' ? 'SRC' : 'DST'}[${96 - 32 * w}..${127 - 32 * w}],resubmit(,11)`);
  const bA = fam === 4 ? B : `[${B}]`;
  const firsts: Record<First, string> = {
    plain: 'ct(zone=5,table=10)',
    commit: 'ct(commit,zone=5,table=10)',
    nat: 'ct(zone=5,nat,table=10)',
    dnat: `ct(commit,zone=5,nat(dst=${b}),table=10)`,
    dnatA: `ct(commit,zone=5,nat(dst=${bA}),table=10)`,
    snat: `ct(commit,zone=5,nat(src=${s}),table=10)`,
    snatP: `ct(commit,zone=5,nat(src=${s}:20000),table=10)`,
  };
  const lines = FIRSTS.map((x, k) => `table=0,${m},in_port=${RW_PORT},${sel(1, k)},actions=${firsts[x]}`);
  const rewrite: Record<Rewrite, string[]> = {
    none: [`${m},${sel(2, 0)},actions=resubmit(,11)`],
    nw_src: [`${m},${sel(2, 1)},actions=move:NXM_OF_ETH_DST[0..31]->${addrField(true)},resubmit(,11)`],
    nw_dst: [`${m},${sel(2, 2)},actions=move:NXM_OF_ETH_DST[0..31]->${addrField(false)},resubmit(,11)`],
    tp_src: l4s.map((p) => `${p.m},${sel(2, 3)},actions=move:NXM_OF_ETH_DST[32..47]->${p.src},resubmit(,11)`),
    tp_dst: l4s.map((p) => `${p.m},${sel(2, 4)},actions=move:NXM_OF_ETH_DST[32..47]->${p.dst},resubmit(,11)`),
    eth: [`${m},${sel(2, 5)},actions=mod_dl_dst:${RW_ETH.map((x) => x.toString(16).padStart(2, '0')).join(':')},resubmit(,11)`],
    ct_clear: [`${m},${sel(2, 6)},actions=ct_clear,resubmit(,11)`],
    icmp_type: [`${icmp.m},${sel(2, k('icmp_type'))},actions=move:NXM_OF_ETH_DST[40..47]->${icmp.type},resubmit(,11)`],
    icmp_code: [`${icmp.m},${sel(2, k('icmp_code'))},actions=move:NXM_OF_ETH_DST[32..39]->${icmp.code},resubmit(,11)`],
    v6hi_src: v6hi('v6hi_src'),
    v6hi_dst: v6hi('v6hi_dst'),
    // Changed and restored in one action list: xlate's commit at the second ct() sees no change.
    back: [
      ...l4s.map((p) => `${p.m},${sel(2, k('back'))},actions=push:${whole},push:${p.dst},move:NXM_OF_ETH_DST[0..31]->${addrField(false)},move:NXM_OF_ETH_DST[32..47]->${p.dst},pop:${p.dst},pop:${whole},resubmit(,11)`),
      `${icmp.m},${sel(2, k('back'))},actions=push:${whole},push:${icmp.type},move:NXM_OF_ETH_DST[0..31]->${addrField(false)},move:NXM_OF_ETH_DST[40..47]->${icmp.type},pop:${icmp.type},pop:${whole},resubmit(,11)`,
    ],
    ttl: [`${m},${sel(2, k('ttl'))},actions=mod_nw_ttl:${RW_TTL},mod_nw_tos:${RW_TOS},resubmit(,11)`],
  };
  for (const r of REWRITES) for (const l of rewrite[r]) lines.push(`table=10,priority=10,in_port=${RW_PORT},${l}`);
  // A port rewrite of an ICMP packet, an ICMP one of another, an IPv6 word of IPv4: none.
  lines.push(`table=10,priority=1,${m},in_port=${RW_PORT},actions=resubmit(,11)`);
  const second: Record<Second, string> = {
    plain: 'ct(zone=5,table=1)',
    commit: 'ct(commit,zone=5,table=1)',
    nat: 'ct(zone=5,nat,table=1)',
    dnat: `ct(commit,zone=5,nat(dst=${b}),table=1)`,
    snat: `ct(commit,zone=5,nat(src=${s}),table=1)`,
  };
  for (const [k, x] of SECONDS.entries()) lines.push(`table=11,${m},in_port=${RW_PORT},${sel(3, k)},actions=${second[x]}`);
  return lines;
}

/**
 * The rewrite pipeline on the engine, as a caller drives it: the first call, the rewrite through wire's edit functions
 * (each only when it changes the field: OVS's translation emits no set action for a field left as it was) or the
 * caller's ct_clear, the second call. `at(k)` runs before call k (the hinted runner's hint sites), `at('rewrite')`
 * between the first call and the rewrite.
 */
function runRewrite(r: Runner, f: Uint8Array, s: RwStep, fam: 4 | 6, at?: (k: 1 | 'rewrite' | 2) => void): void {
  const B = rwAddr(fam, RW4.B);
  const S = rwAddr(fam, RW4.S);
  const b = fam === 4 ? `${B}:8080` : `[${B}]:8080`;
  const bA = fam === 4 ? B : `[${B}]`;
  const sA = fam === 4 ? S : `[${S}]`;
  const first: Record<First, CtCall> = {
    plain: { zone: 5 },
    commit: { zone: 5, commit: true },
    nat: { zone: 5, nat: 'apply' },
    dnat: { zone: 5, commit: true, dnat: b },
    dnatA: { zone: 5, commit: true, dnat: bA },
    snat: { zone: 5, commit: true, snat: sA },
    snatP: { zone: 5, commit: true, snat: `${sA}:20000` },
  };
  const second: Record<Second, CtCall> = {
    plain: { zone: 5 },
    commit: { zone: 5, commit: true },
    nat: { zone: 5, nat: 'apply' },
    dnat: { zone: 5, commit: true, dnat: b },
    snat: { zone: 5, commit: true, snat: sA },
  };
  r.res.reset();
  at?.(1);
  r.call(f, first[s.first]);
  at?.('rewrite');
  const d = r.d;
  r.decoder.decode(f, d);
  const value = read32(f, 2);
  const port = read16(f, 0);
  const ports = d.l4Offset >= 0 && !d.ipFragment && (d.ipProto === 6 || d.ipProto === 17);
  // The decoder leaves an SCTP header undecoded (l4Offset -1): it starts after the IP header.
  const l4 = d.l4Offset >= 0 ? d.l4Offset : d.l3Offset + d.ipHeaderLength;
  const sctp = d.ipProto === 132 && !d.ipFragment && d.l3End - l4 >= 12;
  const icmp = d.l4Offset >= 0 && d.ipProto === (fam === 4 ? 1 : 58);
  const setPort = (which: 0 | 2, to: number): void => {
    if (ports && read16(f, l4 + which) !== to) rewritePort(f, d, which, to);
    else if (sctp && read16(f, l4 + which) !== to) sctpSetPort(f, l4, d.l3End - l4, which, to);
  };
  switch (s.rewrite) {
    case 'nw_src':
    case 'nw_dst': {
      const which = s.rewrite === 'nw_src' ? 0 : 1;
      if (fam === 4) {
        const at4 = d.l3Offset + (which ? 16 : 12);
        if (read32(f, at4) !== value) rewriteIpv4Address(f, d, which ? 16 : 12, value);
      } else {
        const at6 = d.l3Offset + (which ? 24 : 8);
        const a = f.slice(at6, at6 + 16);
        write32(a, 12, value);
        if (read32(f, at6 + 12) !== value) rewriteIpv6Address(f, d, which ? 24 : 8, a);
      }
      break;
    }
    case 'tp_src':
    case 'tp_dst':
      setPort(s.rewrite === 'tp_src' ? 0 : 2, port);
      break;
    case 'icmp_type':
    case 'icmp_code':
      if (icmp) icmpSet(f, l4, s.rewrite === 'icmp_type' ? f[0]! : f[l4]!, s.rewrite === 'icmp_code' ? f[1]! : f[l4 + 1]!);
      break;
    case 'v6hi_src':
    case 'v6hi_dst':
      if (fam === 6) {
        const which = s.rewrite === 'v6hi_src' ? 8 : 24;
        const at6 = d.l3Offset + which + 4 * f[10]!;
        const a = f.slice(d.l3Offset + which, d.l3Offset + which + 16);
        write32(a, 4 * f[10]!, value);
        if (read32(f, at6) !== value) rewriteIpv6Address(f, d, which, a);
      }
      break;
    case 'back': {
      // As a caller that edits the frame at once would: the destination and the port (ICMP: type) set, then put back.
      const dst = f.slice(d.l3Offset + (fam === 4 ? 16 : 24), d.l3Offset + (fam === 4 ? 20 : 40));
      const p0 = read16(f, l4 + 2);
      const t0 = f[l4]!;
      const setDst = (a: Uint8Array): void => {
        if (fam === 4) rewriteIpv4Address(f, d, 16, read32(a, 0));
        else rewriteIpv6Address(f, d, 24, a);
      };
      const to = dst.slice();
      write32(to, to.length - 4, value);
      setDst(to);
      if (icmp) icmpSet(f, l4, f[0]!, f[l4 + 1]!);
      else setPort(2, port);
      if (icmp) icmpSet(f, l4, t0, f[l4 + 1]!);
      else setPort(2, p0);
      setDst(dst);
      break;
    }
    case 'ttl':
      setTtlTos(f, d, fam);
      break;
    case 'eth':
      f.set(RW_ETH, 0);
      break;
    case 'ct_clear': {
      // What the executor's ct_clear leaves (lflow/executor.ts ctClear): not tracked, no original tuple.
      const res = r.res;
      res.state = 0;
      res.zone = 0;
      res.mark = 0;
      res.label.fill(0);
      res.clearOriginal();
      break;
    }
    case 'none':
  }
  at?.(2);
  r.call(f, second[s.second]);
  f[11] = r.res.state & 0xff;
  f[10] = r.res.mark & 0xff;
}

/** CRC32c of `len` bytes at `at` as OVS's crc32c stores it (lib/crc32c.c: the bytes of ~crc, least significant first). */
const CRC32C = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function crc32c(b: Uint8Array, at: number, len: number): number {
  let c = 0xffffffff;
  for (let i = at; i < at + len; i++) c = CRC32C[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  const v = ~c >>> 0;
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
/** An SCTP port set as lib/packets.c packet_set_sctp_port does: checksum ^= crc(before) ^ crc(after), each taken with it 0. */
function sctpSetPort(f: Uint8Array, l4: number, len: number, which: 0 | 2, port: number): void {
  const stored = read32(f, l4 + 8);
  write32(f, l4 + 8, 0);
  const before = crc32c(f, l4, len);
  write16(f, l4 + which, port);
  write32(f, l4 + 8, (stored ^ before ^ crc32c(f, l4, len)) >>> 0);
}
/** ICMP type and code set as lib/packets.c packet_set_icmp does (the checksum adjusted for the one word, when it changes). */
function icmpSet(f: Uint8Array, l4: number, type: number, code: number): void {
  const before = read16(f, l4);
  const now = (type << 8) | code;
  if (before === now) return;
  write16(f, l4, now);
  write16(f, l4 + 2, checksumAdjust16(read16(f, l4 + 2), before, now));
}
/** mod_nw_ttl and mod_nw_tos as lib/packets.c packet_set_ipv4 (TOS, then TTL, each adjusting the header checksum) and packet_set_ipv6 do. */
function setTtlTos(f: Uint8Array, d: DecodedFrame, fam: 4 | 6): void {
  const l3 = d.l3Offset;
  if (fam === 6) {
    const w = read32(f, l3);
    // The traffic class's DSCP bits (mod_nw_tos keeps the ECN bits).
    write32(f, l3, ((w & 0xf00fffff) | ((((w >>> 20) & 0x03) | RW_TOS) << 20)) >>> 0);
    f[l3 + 7] = RW_TTL;
    return;
  }
  const tos = (f[l3 + 1]! & 0x03) | RW_TOS;
  if (f[l3 + 1] !== tos) {
    write16(f, l3 + 10, checksumAdjust16(read16(f, l3 + 10), f[l3 + 1]!, tos));
    f[l3 + 1] = tos;
  }
  if (f[l3 + 8] !== RW_TTL) {
    write16(f, l3 + 10, checksumAdjust16(read16(f, l3 + 10), f[l3 + 8]! << 8, RW_TTL << 8));
    f[l3 + 8] = RW_TTL;
  }
}

/**
 * A packet of connection `conn` in direction `dir` through the pipeline: the first ct as `first` draws (FIRSTS), the
 * rewrite and its value (an address, a port: mostly the conversation's), the second ct.
 */
const rwStepArbOf = (first: fc.Arbitrary<First>) =>
  fc.record({
    conn: fc.integer({ min: 0, max: 2 }),
    // fwd: the connection's original direction; rep: the reply to its translated tuple; revV: the reply untranslated.
    dir: fc.constantFrom(...w<'fwd' | 'rep' | 'revV'>([['fwd', 5], ['rep', 4], ['revV', 1]])),
    first,
    rewrite: fc.constantFrom(
      ...w<Rewrite>([['none', 2], ['nw_src', 3], ['nw_dst', 3], ['tp_src', 2], ['tp_dst', 3], ['eth', 1], ['ct_clear', 1], ['icmp_type', 3], ['icmp_code', 2], ['v6hi_src', 2], ['v6hi_dst', 2], ['back', 2], ['ttl', 2]]),
    ),
    // icmp_type / icmp_code: the type (an echo's own, the other echo type, a timestamp, an error) and the code.
    icmp: fc.record({ type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<'req' | 'rep' | 'ts' | 'err'>('req', 'rep', 'rep', 'ts', 'err') }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }), code: fc.constantFrom(0, 1, 1, 255) }),
    // v6hi_*: the word (0 the top) and its value (0 and 0xfd000000 are the words of fd00::/96: unchanged, or moved).
    word: fc.integer({ min: 0, max: 2 }),
    hi: fc.constantFrom(0, 0xfd000000, 1, 0x20010db8),
    second: fc.constantFrom(...w<Second>([['plain', 2], ['commit', 2], ['nat', 4], ['dnat', 2], ['snat', 1]])),
    addr: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<RwName>(...RW_NAMES) }, { weight: 1, arbitrary: fc.integer({ min: 0x0a000001, max: 0x0affffff }) }),
    port: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<'c0' | 'c1' | 80 | 443 | 8080>('c0', 'c1', 80, 443, 8080) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }) }),
    // A TCP_FLAGS index without FIN or RST (a reopened NAT connection meets OVS 3.1.0's UN_NAT bug: see the cut in compare).
    flags: fc.constantFrom(...w([[2, 6], [3, 4], [0, 1], [1, 1], [9, 1]])),
    // ≥ 0: the rewrite turns the packet into another connection's (RwMaterializer.aimed), where one field differs.
    aim: fc.oneof({ weight: 2, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
  });
type RwStep = (typeof rwStepArbOf extends (...a: never[]) => fc.Arbitrary<infer T> ? T : never) & { open?: boolean };
/**
 * How a connection is opened: its first packet's first ct(), the rewrite (one that leaves the tuple), the second ct()
 * and (TCP) the TCP_FLAGS index of the segment, SYN unless given.
 */
interface RwOpener {
  first: First;
  rewrite: Rewrite;
  second: Second;
  flags?: number;
}
/** An opener by the second ct(): DNAT, a plain commit or SNAT after a plain first. */
const rwOpenSecondArb = fc.constantFrom<Second>('dnat', 'dnat', 'commit', 'snat').map((second): RwOpener => ({ first: 'plain', rewrite: 'none', second }));
interface RwConn {
  client: RwName;
  off: number;
  vip: RwName;
  vport: number;
  open: RwOpener;
}
/**
 * One to three connections: C:base → V:80, and up to two more that differ from it in one field (the client, its
 * port, the VIP, the VIP's port), each opened as `opener` draws — so that one rewrite makes a packet of one the packet
 * of another, or the reply to another — then the steps `step` draws.
 */
function rwConvArbOf(step: fc.Arbitrary<RwStep>, opener: fc.Arbitrary<RwOpener>) {
  const connArb = fc.record({
    field: fc.constantFrom<'client' | 'off' | 'vip' | 'vport'>('client', 'off', 'vip', 'vport'),
    open: opener,
  });
  return fc
    .record({
      fam: fc.constantFrom<4 | 6>(4, 4, 6),
      proto: fc.constantFrom<'tcp' | 'udp' | 'icmp' | 'sctp'>('udp', 'udp', 'tcp', 'tcp', 'icmp', 'icmp', 'sctp'),
      base: fc.constantFrom(40000, 40000, 1000),
      open: opener,
      others: fc.array(connArb, { maxLength: 2 }),
      steps: fc.array(step, { minLength: 2, maxLength: 12 }),
    })
    .map(({ fam, proto, base, open, others, steps }) => {
      const first: RwConn = { client: 'C', off: 0, vip: 'V', vport: 80, open };
      const changed: Record<'client' | 'off' | 'vip' | 'vport', Partial<RwConn>> = { client: { client: 'C2' }, off: { off: 1 }, vip: { vip: 'V2' }, vport: { vport: 443 } };
      const all = [first, ...others.map((o) => ({ ...first, ...changed[o.field], open: o.open }))];
      const cs = all.filter((c, i) => all.findIndex((x) => x.client === c.client && x.off === c.off && x.vip === c.vip && x.vport === c.vport) === i);
      const plain: Omit<RwStep, 'conn' | 'dir' | 'flags' | 'second'> = { first: 'plain', rewrite: 'none', addr: 'C', port: 80, aim: -1, icmp: { type: 'req', code: 0 }, word: 0, hi: 0 };
      // Each connection opened (TCP: its handshake), then the generated steps.
      const opening: RwStep[] = cs.flatMap((c, k): RwStep[] => [
        { ...plain, ...c.open, conn: k, dir: 'fwd', flags: c.open.flags ?? 0, open: true },
        ...(proto === 'tcp' ? [{ ...plain, conn: k, dir: 'rep' as const, flags: 1, second: 'plain' as const }, { ...plain, conn: k, dir: 'fwd' as const, flags: 2, second: 'plain' as const }] : []),
      ]);
      return { fam, proto, base, conns: cs, steps: [...opening, ...steps.map((st) => ({ ...st, conn: st.conn % cs.length }))] };
    });
}
const rewriteConvArb = rwConvArbOf(rwStepArbOf(fc.constantFrom(...w<First>([['plain', 4], ['commit', 1]]))), rwOpenSecondArb);
type RwConv = typeof rewriteConvArb extends fc.Arbitrary<infer T> ? T : never;
/**
 * The rewrite conversations with a first ct() with NAT (natFirstConvArb): after one, OVS 3.1 remembers no connection on
 * the packet — process_one ends in set_cached_conn (lib/conntrack.c v3.1.0 line 1212), which sets `pkt->md.conn` only
 * without a NAT action (`nat_action_info` NULL) and clears it otherwise, whether or not the connection has NAT or the
 * packet was translated, and process_one_fast (1226) clears it after a NAT action too — so the second ct() in the zone
 * always looks the packet up (process_one: a translated packet by its reverse key, initial_conn_lookup 1252), rewritten
 * or not. Where that shows: a TCP connection the first ct() commits from a segment without SYN (tcp_new_conn: peers
 * SYN_SENT and CLOSED) is +new after it; the second ct()'s lookup runs the tracker on the segment again
 * (tcp_conn_update), which finds it valid: +est, where an answer from a remembered connection stays +new. Five steps in
 * seven draw the first ct() with NAT (FIRSTS); two connections in three are opened by it (DNAT or SNAT, with a port or
 * without, the tuple left by the rewrite, any second ct(); TCP: half of them by an ACK, picked up mid-stream).
 */
const NATFIRST_CASES = Number(process.env.VIPPATH_CT_NATFIRST_CASES ?? 50);
const natFirstConvArb = rwConvArbOf(
  rwStepArbOf(fc.constantFrom(...w<First>([['plain', 3], ['commit', 1], ['nat', 3], ['dnat', 2], ['dnatA', 1], ['snat', 2], ['snatP', 1]]))),
  fc.oneof(
    { weight: 1, arbitrary: rwOpenSecondArb },
    {
      weight: 2,
      arbitrary: fc.record({
        first: fc.constantFrom<First>('dnat', 'dnat', 'dnatA', 'snat', 'snatP'),
        rewrite: fc.constantFrom<Rewrite>('none', 'none', 'eth', 'ttl'),
        second: fc.constantFrom(...SECONDS),
        // SYN, or ACK: a TCP connection picked up mid-stream.
        flags: fc.constantFrom(0, 2),
      }),
    },
  ),
);

interface RwTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}
const long6or4 = (a: string): string => (a.includes(':') ? long6(a) : a);

/**
 * An SCTP packet of tuple `t` (common header, then a 16-byte DATA chunk), its checksum the CRC32c OVS computes: OVS
 * 3.1's conntrack tracks SCTP as a protocol without ports (extract_l4 keeps them zero).
 */
function sctpFrame(t: RwTuple): Uint8Array {
  const f = frame({ ...t, proto: 'udp', payload: 20 });
  const v6 = t.src.includes(':');
  const l4 = 14 + (v6 ? 40 : 20);
  if (v6) f[14 + 6] = 132;
  else {
    f[14 + 9] = 132;
    write16(f, 14 + 10, 0);
    write16(f, 14 + 10, internetChecksum(f, 14, 20));
  }
  write32(f, l4 + 4, 0x5c7a9e11);
  write32(f, l4 + 8, 0);
  f.set([0, 3, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], l4 + 12);
  write32(f, l4 + 8, crc32c(f, l4, f.length - l4));
  return f;
}

/** A rewrite conversation's packets: each connection's tuples (the translated one as OVS's output showed it) and sequence numbers. */
/**
 * Conversations where a natted packet's second look lands on another connection (unNatConvArb). OVS 3.1 inserts a
 * UN_NAT conn for every commit with NAT, keyed by the connection's reply key; a packet NATed by a first ct() is looked
 * up by its reverse key (initial_conn_lookup), and when that finds a UN_NAT conn, process_one looks the connection's
 * original key up again (lib/conntrack.c v3.1.0, its CT_CONN_TYPE_UN_NAT branch) — whichever node of that key is first
 * in its chain answers. A connection committed later from the translated reverse without NAT (a reply un-DNATed by a
 * first ct() with NAT, ct_clear, a commit: its reply key is the DNAT connection's original) is first, and the packet
 * is its reply. Each conversation: TCP or UDP, its first connection opened with DNAT, then that shadow-making step at
 * once, then steps with a first ct() with NAT as natFirstConvArb's, aimed more often (a rewrite onto the first
 * connection's tuple makes the natted reverse its reply key).
 */
const UNNAT_CASES = Number(process.env.VIPPATH_CT_UNNAT_CASES ?? 40);
const unNatConvArb = fc
  .tuple(
    rwConvArbOf(
      rwStepArbOf(fc.constantFrom(...w<First>([['plain', 1], ['nat', 2], ['dnat', 3], ['dnatA', 2], ['snat', 1], ['snatP', 1]]))).map((st) => ({ ...st, aim: st.aim < 0 && st.conn % 2 === 1 ? 0 : st.aim })),
      fc.constantFrom<RwOpener>({ first: 'plain', rewrite: 'none', second: 'dnat' }, { first: 'dnat', rewrite: 'none', second: 'plain' }, { first: 'dnatA', rewrite: 'none', second: 'plain' }),
    ).filter((c) => c.proto === 'tcp' || c.proto === 'udp'),
    fc.record({ first: fc.constantFrom<First>('nat', 'dnat', 'dnatA', 'snat', 'snatP'), second: fc.constantFrom<Second>('commit', 'commit', 'plain', 'nat', 'snat') }),
  )
  .map(([conv, shadow]) => {
    const opened = conv.conns.length * (conv.proto === 'tcp' ? 3 : 1);
    const make: RwStep = { ...conv.steps[0]!, conn: 0, dir: 'rep', first: shadow.first, rewrite: 'ct_clear', second: shadow.second, flags: 2, aim: -1, open: undefined };
    return { ...conv, steps: [...conv.steps.slice(0, opened), make, ...conv.steps.slice(opened)] };
  });

class RwMaterializer {
  private readonly orig: RwTuple[];
  private readonly xlat: RwTuple[];
  private readonly next: { client: number; server: number }[];

  constructor(private readonly c: RwConv) {
    this.orig = c.conns.map((x) => ({ src: rwAddr(c.fam, RW4[x.client]), dst: rwAddr(c.fam, RW4[x.vip]), sport: c.base + x.off, dport: x.vport }));
    this.xlat = this.orig.map((t) => ({ ...t }));
    this.next = c.conns.map(() => ({ client: 1000, server: 5000 }));
  }

  /** Step `s`'s packet, and the step as sent (an aimed one's rewrite chosen: see {@link aimed}). */
  frame(step: RwStep): { frame: Uint8Array; step: RwStep } {
    const c = this.c;
    const o = this.orig[step.conn]!;
    const x = this.xlat[step.conn]!;
    const fromClient = step.dir === 'fwd';
    const t = fromClient ? o : step.dir === 'rep' ? { src: x.dst, dst: x.src, sport: x.dport, dport: x.sport } : { src: o.dst, dst: o.src, sport: o.dport, dport: o.sport };
    const s = this.aimed(step, t);
    let f: Uint8Array;
    if (c.proto === 'udp') f = frame({ ...t, proto: 'udp', payload: 10 });
    else if (c.proto === 'sctp') f = sctpFrame(t);
    else if (c.proto === 'icmp') f = frame({ src: t.src, dst: t.dst, proto: 'icmp', icmpType: fromClient ? (c.fam === 4 ? 8 : 128) : c.fam === 4 ? 0 : 129, icmpId: o.sport, payload: 10 });
    else {
      const flags = TCP_FLAGS[s.flags]!;
      const next = this.next[s.conn]!;
      const me = fromClient ? 'client' : 'server';
      const payload = flags & F.PSH ? 10 : 0;
      f = frame({ ...t, proto: 'tcp', flags, seq: next[me], ack: flags & F.ACK ? next[fromClient ? 'server' : 'client'] : 0, payload });
      next[me] = (next[me] + payload + (flags & F.SYN ? 1 : 0)) >>> 0;
    }
    // The rewrite's value in the Ethernet destination, the pipeline's choices in the source.
    const port = s.port === 'c0' ? c.base : s.port === 'c1' ? c.base + 1 : s.port;
    const types = { req: c.fam === 4 ? 8 : 128, rep: c.fam === 4 ? 0 : 129, ts: c.fam === 4 ? 13 : 2, err: c.fam === 4 ? 3 : 1 };
    const icmp = s.rewrite === 'icmp_type' || s.rewrite === 'icmp_code' || (s.rewrite === 'back' && c.proto === 'icmp');
    write16(f, 0, icmp ? ((typeof s.icmp.type === 'number' ? s.icmp.type : types[s.icmp.type]) << 8) | s.icmp.code : port);
    write32(f, 2, s.rewrite === 'v6hi_src' || s.rewrite === 'v6hi_dst' ? s.hi : typeof s.addr === 'number' ? s.addr : RW4[s.addr]);
    f.set([0x02, FIRSTS.indexOf(s.first), REWRITES.indexOf(s.rewrite), SECONDS.indexOf(s.second), s.word, 0], 6);
    return { frame: f, step: s };
  }

  /**
   * An aimed step (`aim`) rewrites the one field in which its packet's tuple `t` differs from another connection's
   * original tuple or from its reply tuple as it arrives (the translated one reversed) — the `aim`-th such target,
   * cycling; a step with none keeps its drawn rewrite. ICMP: addresses only, the echo id equal.
   */
  private aimed(s: RwStep, t: RwTuple): RwStep {
    if (s.aim < 0) return s;
    const icmp = this.c.proto === 'icmp';
    const to: RwStep[] = [];
    for (const [j, o] of this.orig.entries()) {
      if (j === s.conn) continue;
      const x = this.xlat[j]!;
      for (const u of [o, { src: x.dst, dst: x.src, sport: x.dport, dport: x.sport }]) {
        if (icmp && u.sport !== t.sport && u.dport !== t.sport) continue;
        const diff: Rewrite[] = [];
        if (long6or4(u.src) !== long6or4(t.src)) diff.push('nw_src');
        if (long6or4(u.dst) !== long6or4(t.dst)) diff.push('nw_dst');
        if (!icmp && u.sport !== t.sport) diff.push('tp_src');
        if (!icmp && u.dport !== t.dport) diff.push('tp_dst');
        if (diff.length !== 1) continue;
        const rewrite = diff[0]!;
        const a = rewrite === 'nw_src' ? u.src : u.dst;
        to.push({ ...s, rewrite, addr: a.includes(':') ? read32(parseIPv6(a), 12) : parseIPv4(a), port: rewrite === 'tp_src' ? u.sport : u.dport });
      }
    }
    return to.length ? to[s.aim % to.length]! : s;
  }

  /** After an opening step's packet came out as `out`: its connection's translated tuple. */
  saw(s: RwStep, out: Uint8Array): void {
    if (!s.open || !(out[11]! & (CtState.SNAT | CtState.DNAT))) return;
    const t = tupleOf(out);
    // An ICMP echo's id stays (no collision among one client's ids here), SCTP has no ports to NAT: only the addresses.
    this.xlat[s.conn] = this.c.proto === 'icmp' || this.c.proto === 'sctp' ? { ...this.orig[s.conn]!, src: t.src, dst: t.dst } : t;
  }
}

/**
 * Turns a conversation into frames, step by step, tracking each connection's next sequence numbers. In a
 * conversation of several connections the replies go to the ports the NAT chose: `saw` records, from each forward
 * packet out of a NAT pipeline, its source and (DNAT) destination ports, and the backend's replies and errors use
 * them — so a second connection whose first reply tuple was taken is answered at its moved port.
 */
class Materializer {
  private readonly conns: Conn[];
  private readonly next: { client: number; server: number }[];
  private readonly nat: { s?: number; d?: number }[];

  constructor(private readonly c: Conv) {
    this.conns = c.conns ?? [{ client: 0, cport: c.cport, vip: 0, vport: 80 }];
    this.next = this.conns.map(() => ({ ...(c.isn ?? { client: 1000, server: 5000 }) }));
    this.nat = this.conns.map(() => ({}));
  }

  /** The connection a step is on. */
  connOf(s: Step): number {
    return (s.conn ?? 0) % this.conns.length;
  }

  frame(s: Step): { port: number; kind: Kind; frame: Uint8Array } {
    const c = this.c;
    const a = ADDR[c.fam];
    const k = this.connOf(s);
    const conn = this.conns[k]!;
    const next = this.next[k]!;
    const nat = this.nat[k]!;
    const C = conn.src ?? (conn.client ? a.C2 : a.C);
    const V = conn.dst ?? (conn.vip ? a.V2 : a.V);
    const proto = conn.proto ?? c.proto;
    const cport = conn.cport;
    // The source port the NAT gave the connection and the backend port (DNAT), for the backend's replies.
    const natS = nat.s ?? cport;
    const natD = nat.d ?? 8080;
    const plain = (src: string, dst: string, sport: number, dport: number, fromClient: boolean, st: Step): Uint8Array => {
      if (proto === 'udp') return frame({ src, dst, proto: 'udp', sport, dport, payload: st.payload });
      if (proto === 'icmp') {
        const type = fromClient ? (c.fam === 4 ? 8 : 128) : c.fam === 4 ? 0 : 129;
        // One connection: the id of old (0x77); several: the client port, so that equal ports collide.
        return frame({ src, dst, proto: 'icmp', icmpType: type, icmpId: c.conns ? cport : 0x77, payload: st.payload });
      }
      const flags = TCP_FLAGS[st.flags]!;
      const me = fromClient ? 'client' : 'server';
      const other = fromClient ? 'server' : 'client';
      const base = next[me];
      const seq = st.seqAt !== undefined ? base + st.seqAt : st.seqMode === 'retrans' ? base - 10 : st.seqMode === 'far' ? base + 0x40000000 : st.seqMode === 'back' ? base - 200000 : base;
      const options = st.opts !== undefined ? { tcpOptions: st.opts } : st.wscale !== undefined && flags & F.SYN ? { wscale: st.wscale } : {};
      const f = frame({ src, dst, proto: 'tcp', sport, dport, flags, seq: seq >>> 0, ack: flags & F.ACK ? (next[other] + (st.ackAt ?? 0)) >>> 0 : 0, payload: st.payload, ...options, ...(st.win !== undefined ? { win: st.win } : {}) });
      if (st.seqMode === 'next' && st.seqAt === undefined) {
        const to = base + st.payload + (flags & F.SYN ? 1 : 0) + (flags & F.FIN ? 1 : 0);
        if (to > 0xffffffff) seqWraps++;
        next[me] = to >>> 0;
      }
      return f;
    };
    const ext = s.x ? c.ext : undefined;
    // The packet (or the packet an ICMP error embeds) with the conversation's options or extension headers.
    const packet = (src: string, dst: string, sport: number, dport: number, fromClient: boolean, st: Step, inner = false): Uint8Array => {
      const f = plain(src, dst, sport, dport, fromClient, st);
      return ext && ext.where !== (inner ? 'outer' : 'inner') ? withExt(f, ext) : f;
    };
    let f: Uint8Array;
    switch (s.kind) {
      case 'fwdV':
        f = packet(C, V, cport, conn.vport, true, s);
        break;
      case 'fwdB':
        f = packet(C, a.B, cport, 8080, true, s);
        break;
      case 'revV':
        f = packet(V, C, conn.vport, cport, false, s);
        break;
      case 'revB':
        f = packet(a.B, C, natD, natS, false, s);
        break;
      case 'revS':
        f = packet(V, a.S, conn.vport, natS, false, s);
        break;
      case 'errB':
        f = icmpError(packet(C, a.B, natS, natD, true, { ...s, seqMode: 'retrans' }, true), a.B, { embed: s.embed });
        break;
      case 'errV':
        f = icmpError(packet(C, V, cport, conn.vport, true, { ...s, seqMode: 'retrans' }, true), V, { embed: s.embed });
        break;
      case 'errC':
        f = icmpError(packet(V, C, conn.vport, cport, false, { ...s, seqMode: 'retrans' }, true), C, { embed: s.embed });
        break;
      // The hairpin: the backend is the client C itself, answering from natD the VIP (revHs: the source the hairpin
      // SNAT gave the connection) or itself (revHc: DNAT alone), a packet from C to itself, and C's ICMP error about
      // a packet the hairpin SNAT sent it.
      case 'revHs':
        f = packet(C, V, natD, natS, false, s);
        break;
      case 'revHc':
        f = packet(C, C, natD, natS, false, s);
        break;
      case 'self':
        f = packet(C, C, cport, cport, true, s);
        break;
      default:
        f = icmpError(packet(V, C, natS, natD, true, { ...s, seqMode: 'retrans' }, true), C, { embed: s.embed });
    }
    // An ICMP error's own header: options or extension headers on it too (`where` outer or both).
    if (ext && ext.where !== 'inner' && /^err/.test(s.kind)) f = withExt(f, ext);
    return { port: conn.zoneAlt ? (ZONE_ALT_PORT[s.port] ?? s.port) : s.port, kind: s.kind, frame: f };
  }

  /** After step `s`'s packet came out as `out` (ct_state in byte 11): the ports a NAT pipeline gave its connection. */
  saw(s: Step, out: Uint8Array): void {
    // Port 14 rewrites the source port after its DNAT: the connection's reply tuple keeps the port before.
    const proto = this.conns[this.connOf(s)]!.proto ?? this.c.proto;
    if (!this.c.conns || proto === 'icmp' || s.port === 14 || (s.kind !== 'fwdV' && s.kind !== 'fwdB')) return;
    const st = out[11]!;
    if (!(st & (CtState.SNAT | CtState.DNAT))) return;
    const t = tupleOf(out);
    const nat = this.nat[this.connOf(s)]!;
    nat.s = t.sport;
    if (st & CtState.DNAT) nat.d = t.dport;
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Segments after which a peer's next sequence number wrapped past 2^32 (Materializer), to show wrapConvArb wraps. */
let seqWraps = 0;

/**
 * The engine as the executor's replayed walks call it (lflow/executor.ts replayConn): every call through
 * `executeHinted`, with the node, generation and epoch the last call in the same zone on a packet of the same kind (its
 * connection and direction) left (a walk's step keeps what its call found), so that the IPv4 TCP fast path
 * (engine.ts hintedTcp4) is compared with OVS itself, not only with the plain engine. A hint holds in the epoch it
 * was found in only if the call did not move the epoch (the executor's rule for a walk); one from another pipeline
 * may name a node the packet's lookup would not find, which the engine must notice.
 */
class HintedRunner extends Runner {
  // With each hint, the original tuple its call left: a call that finds the hint's node may leave the tuple unwritten
  // (HintedConntrackEngine.executeHinted), and the Runner puts this one back, as the replay puts back a step's.
  private readonly hints = new Map<string, readonly [number, number, number, TupleView]>();
  private site = '';

  begin(site: string): void {
    this.site = site;
  }

  override call(f: Uint8Array, c: CtCall): number {
    const key = `${this.site}/${c.zone ?? 0}`;
    const epoch = this.ct.epoch;
    const h = this.hints.get(key);
    this.hint = h ? [h[0], h[1], h[2]] : [-1, 0, epoch];
    this.hintTuple = h?.[3];
    const state = super.call(f, c);
    this.hints.set(key, [this.ct.foundNode, this.ct.foundGen, this.ct.epoch === epoch ? epoch : 0, tupleView(this.res)]);
    return state;
  }
}

/**
 * One packet of a conversation as compare saw it, OVS and the engines agreeing: `sent` before the pipeline, `out` after
 * (ct_state in byte 11), `r` the plain engine after it, `before` its connections before, `refused` whether a commit was
 * refused for want of a tuple (NAT_EXHAUSTED).
 */
interface StepSeen {
  conv: Conv;
  step: Step;
  port: number;
  kind: Kind;
  sent: Uint8Array;
  out: Uint8Array;
  r: Runner;
  before: CtConnectionInfo[];
  refused: boolean;
}

/** Calls the IPv4 TCP fast path answered (engine.ts hintedTcp4 returned true), to show the hinted runs reach it. */
let fastCalls = 0;
{
  const proto = OvsConntrack.prototype as unknown as { hintedTcp4(...a: unknown[]): boolean };
  const hintedTcp4 = proto.hintedTcp4;
  proto.hintedTcp4 = function (this: OvsConntrack, ...a: unknown[]): boolean {
    const r = hintedTcp4.apply(this, a);
    if (r) fastCalls++;
    return r;
  };
}

describe.skipIf(unavailable !== undefined)('conntrack engine vs ovs-vswitchd 3.1 userspace conntrack', () => {
  // Set by beforeEach before any test runs.
  let ovs!: OvsOracle;
  /**
   * An ovs-vswitchd with the flows, its clock stopped (OvsOracle.stopTime): conntrack's `now` moves only when a
   * conversation's gap warps it, so the timeouts `dpctl/dump-conntrack -s` prints are the engine's to the second.
   */
  const startOvs = async (): Promise<OvsOracle> => {
    const o = new OvsOracle([...IN_PORTS, OUT]);
    const err = o.setFlows(flows());
    if (err) throw new Error(`OVS refused the flows: ${err}`);
    await o.stopTime();
    return o;
  };
  // ovs-vswitchd 3.1.0 has died after a test had compared all it sent and passed (CI: the NAT-range test's daemon
  // gone when the next test replaced the flows — the heap damage restartAfterCrash describes, showing late; under
  // its monitor it shows as SIGSEGV, glibc's SIGABRT or a lib/cmap.c assertion: test/README.md, "Oracle daemons that die").
  // A death between tests is printed; a death during a test still fails that test unless the test itself tolerates
  // it (the conversation runs). Every test starts on a fresh daemon: the damage a NAT property leaves on the heap
  // killed the daemon in a later property that does not tolerate a death (CI 2026-12-05: the fragment property).
  beforeEach(async () => {
    if (ovs && !ovs.alive()) return replaceDeadOvs('after the previous test had passed');
    ovs?.stop();
    ovs = await startOvs();
  });
  /** A fresh ovs-vswitchd in place of the dead one, its log's end printed (`when`: what it died during). */
  const replaceDeadOvs = async (when: string): Promise<void> => {
    // How it ended (its monitor's word: signal, core dumped), the log's end and the last commands it was sent.
    console.warn(`ovs-vswitchd died ${when}:${ovs.deathReport() || `\n${ovs.logTail()}`}\nstarting a fresh one`);
    ovs.stop();
    ovs = await startOvs();
  };
  afterAll(() => ovs?.stop());
  /**
   * Replaces the flows. ovs-vswitchd 3.1.0 has also died right at the flow mods, alive at beforeEach (CI 2026-12-04:
   * the NAT-range test's del-flows logged, then the daemon gone before add-flows finished — the damage above, showing
   * there): nothing was compared yet, so a fresh daemon takes the flows and the test runs on it.
   */
  const replaceFlows = async (list: string[]): Promise<void> => {
    let err: string | undefined;
    try {
      err = ovs.setFlows(list);
    } catch (e) {
      if (ovs.alive()) throw e;
      await replaceDeadOvs('while its flows were replaced');
      err = ovs.setFlows(list);
    }
    if (err) throw new Error(`OVS refused the flows: ${err}`);
  };

  /**
   * How many of a property's `cases` conversations may end in an ovs-vswitchd death (its own crash: not compared, a
   * fresh daemon). Deaths are rare (19 in 7 whole runs under load 15–33, test/README.md): more means the death check
   * is what answers — a harness that took a live daemon for dead would pass every disagreement off as a crash.
   */
  const crashBound = (cases: number): number => Math.max(5, Math.ceil(cases / 5));

  it('zone limits: commits beyond a zone limit are refused (new, no entry), as dpctl/ct-set-limits', async () => {
    ovs.appctl('dpctl/flush-conntrack');
    ovs.appctl('dpctl/ct-set-limits', 'zone=5,limit=2');
    try {
      const r = new Runner({ zoneLimits: { 5: 2 } });
      for (let i = 0; i < 4; i++) {
        const f = frame({ src: ADDR[4].C, dst: ADDR[4].V, proto: 'udp', sport: 3000 + i, dport: 53 });
        const got = await ovs.send(3, f.slice(), { port: OUT, count: 1 });
        runEngine(r, f, 3, 4);
        expect(got.get(OUT)).toEqual([hex(f)]);
      }
      const theirs = ovs.appctl('dpctl/dump-conntrack', '-m').split('\n').filter((l) => l.trim() !== '').sort();
      expect(theirs).toHaveLength(2);
      expect(r.ct.formatDump(r.now, { verbose: true })).toEqual(theirs);
      expect(ovs.appctl('dpctl/ct-get-limits', 'zone=5')).toContain('zone=5,limit=2,count=2');
    } finally {
      ovs.appctl('dpctl/ct-del-limits', 'zone=5');
    }
  });

  /**
   * A connection expired early — `force` on a reply, a SYN reopening a closed TCP connection — is only marked
   * (expiration 0: lib/conntrack.c v3.1.0 conn_force_expire) and keeps its zone-limit count until the clean thread
   * sweeps it (conn_clean), so the connection that replaces it is refused in a zone at its limit, and so is any other
   * commit, until then. The engine does the same (forceExpire; sweep). What differs is only when the sweep happens:
   * OVS's clean thread on its own timer in wall-clock time (and at each warp here), the engine at the first call at or
   * after every `sweepIntervalMs` of its simulated time (20 s) or when its owner calls `sweep` — so in a zone at its
   * limit a commit within ≤ 20 s of an expiration can be accepted by one and refused by the other (ZONE_FULL), and
   * `ct-get-limits`'s count differ meanwhile; lookups, states and dumps pass over expired entries in both alike.
   */
  it('zone limits: a connection expired early keeps its count until the sweep, in OVS and the engine', async () => {
    ovs.appctl('dpctl/flush-conntrack');
    ovs.appctl('dpctl/ct-set-limits', 'zone=5,limit=1');
    try {
      const r = new Runner({ zoneLimits: { 5: 1 } });
      const a = ADDR[4];
      const same = async (name: string, port: number, f: Uint8Array, count: number): Promise<void> => {
        const got = await ovs.send(port, f.slice(), { port: OUT, count: 1 });
        runEngine(r, f, port, 4);
        const theirs = ovs.appctl('dpctl/dump-conntrack', '-m').split('\n').filter((l) => l.trim() !== '').sort();
        const ovsCount = Number(/zone=5,limit=1,count=(\d+)/.exec(ovs.appctl('dpctl/ct-get-limits', 'zone=5'))?.[1]);
        expect({ name, out: got.get(OUT), table: r.ct.formatDump(r.now, { verbose: true }), count: r.ct.zoneLimit(5)?.count }).toEqual({ name, out: [hex(f)], table: theirs, count: ovsCount });
        expect({ name, count: ovsCount }).toEqual({ name, count });
      };
      const sweep = async (): Promise<void> => {
        await ovs.warp(1);
        r.now += 1;
        r.ct.sweep(r.now);
      };
      const udp = (fwd: boolean, sport: number): Uint8Array => (fwd ? frame({ src: a.C, dst: a.V, proto: 'udp', sport, dport: 53 }) : frame({ src: a.V, dst: a.C, proto: 'udp', sport: 53, dport: sport }));
      const tcp = (fwd: boolean, flags: number, seq: number, ack: number): Uint8Array => (fwd ? frame({ src: a.C, dst: a.V, proto: 'tcp', sport: 4000, dport: 80, flags, seq, ack }) : frame({ src: a.V, dst: a.C, proto: 'tcp', sport: 80, dport: 4000, flags, seq, ack }));
      await same('udp commit', 2, udp(true, 3000), 1);
      // force on the reply: the connection expired, its replacement (the reply's direction) refused.
      await same('udp reply through force', 10, udp(false, 3000), 1);
      await same('another udp commit', 2, udp(true, 3001), 1);
      await sweep();
      await same('udp commit after the sweep', 2, udp(true, 3001), 1);
      await sweep();
      ovs.appctl('dpctl/flush-conntrack');
      r.ct.flush();
      await same('tcp syn', 2, tcp(true, F.SYN, 1000, 0), 1);
      await same('tcp syn-ack', 2, tcp(false, F.SYN | F.ACK, 5000, 1001), 1);
      await same('tcp rst', 2, tcp(true, F.RST, 1001, 0), 1);
      // A SYN on the closed connection reopens it: the old one expired, the new one refused until the sweep.
      await same('tcp syn reopening', 2, tcp(true, F.SYN, 2000, 0), 1);
      await sweep();
      await same('tcp syn after the sweep', 2, tcp(true, F.SYN, 2000, 0), 1);
    } finally {
      ovs.appctl('dpctl/ct-del-limits', 'zone=5');
    }
  });

  // VIPPATH_CT_CONV='<counterexample JSON>' replays one conversation and prints both sides, packet by packet.
  it.skipIf(!process.env.VIPPATH_CT_CONV)('replay one conversation', async () => {
    const conv = JSON.parse(process.env.VIPPATH_CT_CONV!) as Conv;
    ovs.appctl('dpctl/flush-conntrack');
    const r = new Runner();
    const m = new Materializer(conv);
    for (const step of conv.steps) {
      if (step.gap !== undefined || step.edge !== undefined) {
        const gap = step.gap ?? edgeGap(r, step.edge!);
        await ovs.warp(gap);
        r.now += gap;
        r.ct.sweep(r.now);
        console.log(`gap ${gap} ms\n  ovs:    ${ovs.appctl('dpctl/dump-conntrack', '-s').trim()}\n  engine: ${r.ct.formatDump(r.now, { stats: true }).join('\n')}`);
        continue;
      }
      const { port, frame: f } = m.frame(step);
      const got = await ovs.send(port, f.slice());
      runEngine(r, f, port, conv.fam);
      m.saw(step, f);
      console.log(`in_port ${port}\n  ovs:    ${(got.get(OUT) ?? []).join(' ')}\n  engine: ${hex(f)}\n  engine table: ${JSON.stringify(r.ct.connections(r.now))}`);
    }
    console.log(`vswitchd log tail:\n${ovs.logTail(15)}`);
    console.log(`ovs dump:\n${ovs.appctl('dpctl/dump-conntrack', '-m', '-s')}\nengine dump:\n${r.ct.formatDump(r.now, { stats: true }).join('\n')}`);
  });

  /**
   * The conversations `arb` generates, each packet through OVS, the plain engine and the hinted one (HintedRunner);
   * returns the calls the hinted IPv4 TCP path answered, the source ports NAT collisions moved, the commits refused
   * for want of a tuple, and for the gaps (expiryConvArb) how many there were, after how many a connection was
   * within its last second (printed timeout 0) and at how many a connection expired, and what the verbose dumps
   * compared showed (dumpFeatures, counted per line). `engine`: the engines'
   * options; `sharedHints`: a walk's hint is its packet kind's, whichever connection left it (the executor's replayed
   * walk serves every connection whose packets take it), rather than its connection's; `seeds`: that many more plain
   * engines with those options and hash seeds 1, 2, …, judged by OVS as the first (wordConvArb); `onStep`: told each
   * packet OVS and the engines agreed on (to count corners).
   */
  async function compare(
    arb: fc.Arbitrary<Conv>,
    cases: number,
    what: string,
    opts: { engine?: OvsConntrackOptions; sharedHints?: boolean; seeds?: number; onStep?: (x: StepSeen) => void } = {},
  ): Promise<{ fast: number; moved: number; exhausted: number; gaps: number; lastSecond: number; expired: number; promised: number; dumped: Map<string, number> }> {
    console.log(`conntrack vs OVS (${what}): seed ${SEED}, ${cases} conversations (VIPPATH_CT_SEED=${SEED} replays)`);
    const fastBefore = fastCalls;
    let packets = 0;
    let skipped = 0;
    let crashes = 0;
    // Forward packets whose NAT moved the source port (a collision found and searched past), and commits refused
    // for want of a free tuple (NAT_EXHAUSTED): the counts show whether the generator reached those branches.
    let moved = 0;
    let exhausted = 0;
    let gaps = 0;
    let lastSecond = 0;
    let expired = 0;
    // The words runner's calls on the previous call's frame generation: the engine took its kept key on the promise
    // (Runner's generation), as under the executor.
    let promised = 0;
    // The states connections expired in (TCP: both peers'), to show the gaps reach each.
    const expiredIn = new Map<string, number>();
    // Debian's ovs-vswitchd 3.1.0 dies during NAT conversations (heap damage from its NAT reverse entries, see the
    // comment at the cut below: 15 deaths in 5 whole runs at random seeds, each with its monitor's word — SIGSEGV,
    // glibc's SIGABRT on a damaged heap, lib/cmap.c assertions; test/README.md); how it died, its log's end and the
    // last packets it was sent are printed and a fresh one started.
    const restartAfterCrash = async (conv: Conv): Promise<void> => {
      crashes++;
      await replaceDeadOvs(`during ${JSON.stringify(conv)}`);
    };
    // Which ct_state values the comparison covered (printed, so a run that never reaches rel/inv/nat shows it).
    const seen = new Map<number, number>();
    // What OVS's verbose dump lines showed at the comparisons (dumpFeatures), so a test can assert it compared them.
    const dumped = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(arb, async (conv) => {
        if (process.env.VIPPATH_CT_TRACE) console.log(JSON.stringify(conv));
        try {
          await conversation(conv);
        } catch (e) {
          if (ovs.alive()) throw e;
          // ovs-vswitchd 3.1.0 itself died (see restartAfterCrash): not a disagreement; start a fresh one.
          await restartAfterCrash(conv);
        }
      }),
      { numRuns: cases, seed: SEED, verbose: 1, endOnFailure: process.env.VIPPATH_CT_SHRINK === '0' },
    );
    expect({ crashes }).toEqual({ crashes: Math.min(crashes, crashBound(cases)) });
    const names = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];
    const text = [...seen].sort((x, y) => y[1] - x[1]).map(([st, n]) => `${names.filter((_, i) => st & (1 << i)).join('|')}: ${n}`);
    const states = [...expiredIn].sort((x, y) => y[1] - x[1]).map(([st, n]) => `${st} ${n}`);
    const gapText = gaps ? `; ${gaps} gaps, after ${lastSecond} a connection in its last second, at ${expired} a connection expired (${states.join(', ')})` : '';
    console.log(`conntrack vs OVS (${what}): ${packets} packets compared, plain and hinted (${fastCalls - fastBefore} calls by the hinted IPv4 TCP path; ${moved} source ports moved by a NAT collision, ${exhausted} commits refused for want of a tuple${gapText}) (${skipped} conversations cut at a force-expired NAT connection, ${crashes} ovs-vswitchd crashes; ${promised} words calls on the frame generation's promise); ct_state seen: ${text.join(', ')}`);

    console.log(`conntrack vs OVS (${what}): the verbose dumps compared held ${[...dumped].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    return { fast: fastCalls - fastBefore, moved, exhausted, gaps, lastSecond, expired, promised, dumped };

    /** The engines' tables against OVS's, timeouts included (its clock is stopped: see startOvs). */
    async function sameTables(r: Runner, h: Runner, seeded: Runner[], where: string, wr?: Runner): Promise<void> {
      const theirs = (await ovs.appctlAsync('dpctl/dump-conntrack', '-m', '-s')).split('\n').filter((l) => l.trim() !== '').sort();
      for (const line of theirs) for (const k of dumpFeatures(line)) dumped.set(k, (dumped.get(k) ?? 0) + 1);
      expect({ where, table: r.ct.formatDump(r.now, DUMP_MS) }).toEqual({ where, table: theirs });
      if (wr) expect({ where, words: wr.ct.formatDump(wr.now, DUMP_MS) }).toEqual({ where, words: theirs });
      expect({ where, hinted: h.ct.formatDump(h.now, DUMP_MS) }).toEqual({ where, hinted: theirs });
      for (const [i, x] of seeded.entries()) expect({ where, seed: i + 1, table: x.ct.formatDump(r.now, DUMP_MS) }).toEqual({ where, seed: i + 1, table: theirs });
    }

    async function conversation(conv: Conv): Promise<void> {
        await ovs.appctlAsync('dpctl/flush-conntrack');
        const r = new Runner(opts.engine);
        // The executor's entry (executeWords, the ct fields in flow words) beside execute, on the same packets.
        const wr = new Runner(opts.engine, true);
        const h = new HintedRunner(opts.engine);
        const seeded = Array.from({ length: opts.seeds ?? 0 }, (_, i) => new Runner({ ...opts.engine, seed: i + 1 }));
        const m = new Materializer(conv);
        for (const [i, step] of conv.steps.entries()) {
          if (step.gap !== undefined || step.edge !== undefined) {
            // OVS's clean thread sweeps at every warp (OvsOracle.warp), so the plain engine sweeps too; the hinted
            // one keeps its expired entries, which its lookups and hints must pass over.
            const gap = step.gap ?? edgeGap(r, step.edge!);
            const before = r.ct.connections(r.now);
            await ovs.warp(gap);
            r.now += gap;
            h.now += gap;
            wr.now += gap;
            r.ct.sweep(r.now);
            wr.ct.sweep(wr.now);
            gaps++;
            const live = r.ct.connections(r.now);
            if (live.length < before.length) expired++;
            for (const c of before) {
              if (live.some((l) => l.slot === c.slot)) continue;
              const what = c.tcpStateOrig ? `${c.tcpStateOrig}/${c.tcpStateReply}` : c.proto === 17 ? 'udp' : 'icmp';
              expiredIn.set(what, (expiredIn.get(what) ?? 0) + 1);
            }
            if (live.some((c) => c.timeout === 0)) lastSecond++;
            for (const x of seeded) x.now += gap;
            await sameTables(r, h, seeded, `after step ${i}, a gap of ${gap} ms`, wr);
            continue;
          }
          const { port, kind, frame: f } = m.frame(step);
          const sent = f.slice();
          const fh = f.slice();
          // A walk's hint is its connection's (the site is the packet's kind on its connection) unless shared.
          h.begin(conv.conns && !opts.sharedHints ? `${kind}#${m.connOf(step)}` : kind);
          runEngine(h, fh, port, conv.fam);
          const tableBefore = r.ct.connections(r.now);
          const natBefore = tableBefore.filter((c) => c.nat).map((c) => c.slot);
          const forcedBefore = r.ct.counters[CtReason.FORCE_EXPIRED]!;
          const exhaustedBefore = r.ct.counters[CtReason.NAT_EXHAUSTED]!;
          runEngine(r, f, port, conv.fam);
          const fw = sent.slice();
          const promisedBefore = wr.promisedCalls;
          runEngine(wr, fw, port, conv.fam);
          promised += wr.promisedCalls - promisedBefore;
          exhausted += r.ct.counters[CtReason.NAT_EXHAUSTED]! - exhaustedBefore;
          const live = new Set(r.ct.connections(r.now).map((c) => c.slot));
          if (r.ct.counters[CtReason.FORCE_EXPIRED]! > forcedBefore && natBefore.some((slot) => !live.has(slot))) {
            // OVS 3.1.0 (Debian's) keeps an expired NAT connection's reverse entry (CT_CONN_TYPE_UN_NAT) alive until
            // its clean thread sweeps it, in wall-clock time: until then a new connection's NAT avoids that tuple (a
            // reopened connection gets another source port), `force` on a NAT reply is ignored, and lookups that
            // hit the entry read TCP state past its allocation (lib/conntrack.c v3.1.0 process_one/conn_key_lookup;
            // fixed in v3.1.3 by "conntrack: Remove nat_conn introducing key directionality"). The engine follows
            // the fixed branch-3.1; the comparison of this conversation stops here.
            skipped++;
            return;
          }
          const fs = seeded.map((x) => {
            const fx = sent.slice();
            runEngine(x, fx, port, conv.fam);
            return hex(fx);
          });
          const got = await ovs.send(port, sent, { port: OUT, count: 1 });
          packets++;
          if ((kind === 'fwdV' || kind === 'fwdB') && port !== 14 && f[11]! & (CtState.SNAT | CtState.DNAT) && conv.proto !== 'icmp' && tupleOf(f).sport !== tupleOf(sent).sport) moved++;
          seen.set(f[11]!, (seen.get(f[11]!) ?? 0) + 1);
          expect({ port, out: got.get(OUT) ?? [] }).toEqual({ port, out: [hex(f)] });
          expect({ port, hinted: got.get(OUT) ?? [] }).toEqual({ port, hinted: [hex(fh)] });
          expect({ port, words: got.get(OUT) ?? [] }).toEqual({ port, words: [hex(fw)] });
          for (const [k, fx] of fs.entries()) expect({ port, seed: k + 1, out: got.get(OUT) ?? [] }).toEqual({ port, seed: k + 1, out: [fx] });
          opts.onStep?.({ conv, step, port, kind, sent, out: f, r, before: tableBefore, refused: r.ct.counters[CtReason.NAT_EXHAUSTED]! > exhaustedBefore });
          m.saw(step, f);
        }
        await sameTables(r, h, seeded, 'at the end', wr);
    }
  }

  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${CASES} generated conversations: same bytes, ct_state, ct_mark out; same connection table (seed ${SEED})`, async () => {
    const { promised, dumped } = await compare(convArb, CASES, 'mixed');
    // Mid-stream pickups (BE_LIBERAL) and peers whose states differ were in the verbose dumps compared.
    for (const k of ['BE_LIBERAL', 'peers in different states']) expect({ k, n: dumped.get(k) ?? 0 }).not.toEqual({ k, n: 0 });
    // The executor's entry on its frame generation (a packet's later calls take the kept key on the promise) was among
    // what OVS checked.
    expect(promised).toBeGreaterThan(0);
    // 100 conversations took 117 s of the project's 120 s at load 15 (session 15): room by the count.
  }, Math.max(120_000, CASES * 3_000));

  // The hinted IPv4 TCP path answers established TCP packets whose previous call in the zone found their node: the
  // mixed conversations reach it a few times only.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${EST_CASES} established TCP conversations through the NAT pipelines, plain and hinted (seed ${SEED})`, async () => {
    const { fast } = await compare(estConvArb, EST_CASES, 'established');
    expect(fast).toBeGreaterThan(EST_CASES * 4);
  }, Math.max(120_000, EST_CASES * 6_000));

  // Sequence numbers that wrap past 2^32 (or cross 2^31) within the conversation, either side: OVS compares them
  // modulo 2^32, so must the engine (plain and hinted).
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${WRAP_CASES} established TCP conversations whose sequence numbers wrap, plain and hinted (seed ${SEED})`, async () => {
    const before = seqWraps;
    const { fast } = await compare(wrapConvArb, WRAP_CASES, 'wrapping');
    console.log(`conntrack vs OVS (wrapping): ${seqWraps - before} segments wrapped a peer's sequence number past 2^32`);
    // 14 for 25 conversations at the default seed: a count near zero would mean the starts no longer wrap.
    expect(seqWraps - before).toBeGreaterThan(WRAP_CASES / 5);
    expect(fast).toBeGreaterThan(WRAP_CASES * 4);
  }, Math.max(120_000, WRAP_CASES * 6_000));

  // Several live connections whose NAT tuples collide (collideConvArb): the port search and NAT exhaustion judged by OVS.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${COLLIDE_CASES} conversations of colliding NAT connections: same source port chosen, ct_state, replies translated back (seed ${SEED})`, async () => {
    const { moved, exhausted } = await compare(collideConvArb, COLLIDE_CASES, 'colliding NAT');
    expect(moved).toBeGreaterThan(0);
    expect(exhausted).toBeGreaterThan(0);
    // Several NAT connections make ovs-vswitchd 3.1.0 die more often (restarted, see restartAfterCrash): room for it.
  }, Math.max(120_000, COLLIDE_CASES * 5_000));

  // Silences of OVS's timeouts and around them (expiryConvArb): after each, the same connections live, with the same
  // timeouts printed; the packets after meet the same entries.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${EXPIRY_CASES} conversations with gaps at and around each state's timeout: same connections expired, same timeouts printed (seed ${SEED})`, async () => {
    const { gaps, lastSecond, expired } = await compare(expiryConvArb, EXPIRY_CASES, 'expiry');
    // At the default seed most gaps leave a connection in its last second or end one: counts near zero would mean
    // the gaps no longer fall on the timeouts.
    expect(lastSecond).toBeGreaterThan(gaps / 8);
    expect(expired).toBeGreaterThan(gaps / 8);
  }, Math.max(120_000, EXPIRY_CASES * 6_000));

  // Two connections one word apart (wordConvArb), every field in turn.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${WORD_CASES} conversations of two connections whose keys differ in one word: neither found for the other (seed ${SEED})`, async () => {
    const fields = new Map<Field, number>();
    const counted = wordConvArb.map((c) => {
      fields.set(c.field, (fields.get(c.field) ?? 0) + 1);
      return c;
    });
    await compare(counted, WORD_CASES, 'one word apart', { engine: { initialCapacity: 1 }, sharedHints: true, seeds: 16 });
    console.log(`conntrack vs OVS (one word apart): fields changed: ${[...fields].map(([f, n]) => `${f} ${n}`).join(', ')}`);
    expect(fields.size).toBe(6);
  }, Math.max(120_000, WORD_CASES * 5_000));

  // A client reaching itself through its service's VIP (hairpinConvArb).
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${HAIRPIN_CASES} hairpin conversations: DNAT to the client's own address, with and without the hairpin SNAT (seed ${SEED})`, async () => {
    await compare(hairpinConvArb, HAIRPIN_CASES, 'hairpin');
  }, Math.max(120_000, HAIRPIN_CASES * 5_000));

  // NAT without a target (nullNatConvArb): ct(commit,nat) on new connections, nat(src) / nat(dst) without a range.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${NULLNAT_CASES} conversations through NAT without a target: OVS's reply key src=0.0.0.0,dport=0, its refusals, replies that find nothing; nat(src)/nat(dst) without a range (seed ${SEED})`, async () => {
    // committed: ct(commit,nat) committed a new connection (its reply key's source address zero), by protocol and by
    // family; refused: a second one's reply key was taken; reply: a server's packet (revV, the reply the tuple
    // would have) while its connection lived with a zero reply key, by what it met (new, inv, est from another
    // connection); later: a client packet finding such a connection; second: the second ct() (32, 33) after the first
    // found or committed one; plain: nat(src) / nat(dst) without a range committing, by family (+snat / +dnat).
    const n = new Map<string, number>();
    const add = (k: string): void => void n.set(k, (n.get(k) ?? 0) + 1);
    const names = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];
    const stateText = (st: number): string => names.filter((_, i) => st & (1 << i)).join('|');
    const zero = (a: string): boolean => a === '0.0.0.0' || a === '::';
    await compare(nullNatConvArb, NULLNAT_CASES, 'NAT without a target', {
      onStep: ({ conv, step, port, kind, sent, out, r, before, refused }) => {
        const st = out[11]!;
        const t = tupleOf(sent);
        const d = new DecodedFrame();
        new FrameDecoder().decode(sent, d);
        const id = conv.proto === 'icmp' && d.l4Offset >= 0 ? read16(sent, d.l4Offset + 4) : -1;
        const same = (a: CtTupleInfo, b: RwTuple): boolean => long6or4(a.src) === long6or4(b.src) && long6or4(a.dst) === long6or4(b.dst) && (conv.proto === 'icmp' ? a.icmpId === id : a.sport === b.sport && a.dport === b.dport);
        const nullConn = (c: CtConnectionInfo): boolean => zero(c.reply.src);
        if (NULL_NAT_PORTS.includes(port) && refused) {
          add(port === 33 ? 'refused, then DNAT at 33' : `refused ${conv.proto}`);
          add(`refused v${conv.fam}`);
        }
        if (NULL_NAT_PORTS.includes(port) && kind === 'fwdV') {
          const after = r.ct.connections(r.now);
          const made = after.find((c) => !before.some((b) => b.slot === c.slot) && nullConn(c));
          if (made) {
            add(`committed ${conv.proto}`);
            add(`committed v${conv.fam}`);
          }
          const met = before.find((c) => nullConn(c) && same(c.orig, t));
          if (met) add(`later ${stateText(st)}`);
          if (port !== 29 && (made || met)) add(`second ct() at ${port}`);
        }
        if (kind === 'revV' && before.some((c) => nullConn(c) && same(c.orig, { src: t.dst, dst: t.src, sport: t.dport, dport: t.sport }))) add(`reply ${stateText(st) || 'none'}`);
        if ((port === 30 || port === 31) && kind === 'fwdV' && st & CtState.NEW && st & (CtState.SNAT | CtState.DNAT)) add(`nat(${port === 30 ? 'src' : 'dst'}) ${conv.fam}`);
      },
    });
    const seen = [...n].sort(([a], [b]) => a.localeCompare(b));
    console.log(`conntrack vs OVS (NAT without a target): ${seen.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    // At the default seed each is reached several times: a missing one means the generator no longer reaches it.
    const must = ['committed tcp', 'committed udp', 'committed icmp', 'committed v4', 'committed v6', 'refused tcp', 'refused udp', 'refused icmp', 'refused v4', 'refused v6', 'refused, then DNAT at 33', 'reply new|trk', 'reply inv|trk', 'later est|trk', 'later new|trk', 'second ct() at 32', 'second ct() at 33', 'nat(src) 4', 'nat(src) 6', 'nat(dst) 4', 'nat(dst) 6'];
    for (const k of must) expect({ [k]: (n.get(k) ?? 0) > 0 }).toEqual({ [k]: true });
  }, Math.max(120_000, NULLNAT_CASES * 4_000));

  // Fragments (fragConvArb): OVS reassembles, the engine does not — pinned as the documented difference.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${FRAG_CASES} fragmented packets: a small fragment +inv in both; OVS's others held, then the whole packet's answer cut again; the engine's +inv (seed ${SEED})`, async () => {
    console.log(`conntrack vs OVS (fragments): seed ${SEED}, ${FRAG_CASES} packets (VIPPATH_CT_SEED=${SEED} replays)`);
    const n = { small: 0, held: 0, released: 0, frags: 0 };
    // The pipelines the completed lists went through (a NAT rewrite of the fragments shows in 7 and 5).
    const releasedAt = new Map<number, number>();
    let ipId = 0x5000;
    await fc.assert(
      fc.asyncProperty(fragConvArb, async (c) => {
        await ovs.appctlAsync('dpctl/flush-conntrack');
        // r: the engine as the datapath would call it, fragment by fragment; w: on the whole packet (ipf's output).
        const r = new Runner();
        const w = new Runner();
        const a = ADDR[c.fam];
        const data = [...c.pieces, c.last].reduce((t, k) => t + k * 8, 0);
        const l4 = c.proto === 'tcp' ? 20 : 8;
        const whole = (payload = data - l4): Uint8Array => frame({ src: a.C, dst: a.V, proto: c.proto, sport: c.cport, dport: 80, flags: F.SYN, seq: 1000, icmpType: c.fam === 4 ? 8 : 128, icmpId: c.cport, payload });
        if (c.before) {
          // A short packet of the connection (the whole one may exceed the ports' MTU of 1500, which OVS drops).
          const f = whole(10);
          const got = await ovs.send(c.port, f.slice(), { port: OUT, count: 1 });
          runEngine(r, f, c.port, c.fam);
          runEngine(w, whole(10), c.port, c.fam);
          expect({ before: got.get(OUT) }).toEqual({ before: [hex(f)] });
        }
        const tableBefore = r.ct.formatDump(r.now);
        const cuts = c.pieces.reduce<number[]>((acc, k) => [...acc, (acc.at(-1) ?? 0) + k * 8], []);
        const id = ipId++;
        const frs = fragments(whole(), cuts, id);
        const idx = frs.map((_, i) => i);
        const order = c.order === 'reverse' ? idx.reverse() : c.order === 'rotate' ? [...idx.slice(1), idx[0]!] : idx;
        const sent = order.filter((i) => i !== c.drop);
        // ipf's minimum sizes (lib/ipf.c IPF_V4_FRAG_SIZE_MIN_DEF 1200, IPF_V6_FRAG_SIZE_MIN_DEF 1280), last fragments exempt.
        const small = (i: number): boolean => i < frs.length - 1 && frs[i]!.length - 14 < (c.fam === 4 ? 1200 : 1280);
        const completes = sent.length === frs.length && !idx.some(small);
        for (const [k, i] of sent.entries()) {
          const fe = frs[i]!.slice();
          const fragBefore = r.ct.counters[CtReason.FRAGMENT]!;
          runEngine(r, fe, c.port, c.fam);
          n.frags++;
          expect({ i, engine: fe[11] }).toEqual({ i, engine: CtState.INV | CtState.TRK });
          expect(r.ct.counters[CtReason.FRAGMENT]! - fragBefore).toBeGreaterThan(0);
          const got = (await ovs.send(c.port, frs[i]!.slice())).get(OUT) ?? [];
          if (small(i)) {
            n.small++;
            expect({ i, small: got }).toEqual({ i, small: [hex(fe)] });
          } else if (completes && k === sent.length - 1) {
            n.released++;
            releasedAt.set(c.port, (releasedAt.get(c.port) ?? 0) + 1);
            const wf = whole();
            runEngine(w, wf, c.port, c.fam);
            expect({ i, released: got }).toEqual({ i, released: fragments(wf, cuts, id).map(hex) });
          } else {
            n.held++;
            expect({ i, held: got }).toEqual({ i, held: [] });
          }
        }
        const theirs = (await ovs.appctlAsync('dpctl/dump-conntrack', '-m')).split('\n').filter((l) => l.trim() !== '').sort();
        expect({ reassembled: w.ct.formatDump(w.now, { verbose: true }) }).toEqual({ reassembled: theirs });
        expect({ engine: r.ct.formatDump(r.now) }).toEqual({ engine: tableBefore });
      }),
      { numRuns: FRAG_CASES, seed: SEED, verbose: 1, endOnFailure: process.env.VIPPATH_CT_SHRINK === '0' },
    );
    console.log(`conntrack vs OVS (fragments): ${n.frags} fragments: ${n.small} too small for ipf (+inv in both), ${n.held} held by OVS, ${n.released} lists completed and released (by in_port: ${[...releasedAt].map(([p, k]) => `${p}: ${k}`).join(', ')})`);
    expect(n.small).toBeGreaterThan(0);
    expect(n.held).toBeGreaterThan(0);
    expect(n.released).toBeGreaterThan(0);
  }, Math.max(120_000, FRAG_CASES * 3_000));

  // NAT ranges (rangeConvArb): the same ports taken and refused, up to which free port the hash picks.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${RANGE_CASES} conversations through NAT to a port range: choices in range, the same refusals, the same bytes up to the port chosen (seed ${SEED})`, async () => {
    console.log(`conntrack vs OVS (NAT ranges): seed ${SEED}, ${RANGE_CASES} conversations (VIPPATH_CT_SEED=${SEED} replays)`);
    const n = { packets: 0, relabelled: 0, differ: 0, refused: 0, moved: 0 };
    await fc.assert(
      fc.asyncProperty(rangeConvArb, async ({ pipe, conv }) => {
        await ovs.appctlAsync('dpctl/flush-conntrack');
        const r = new Runner();
        // Each side's replies go to the ports its own NAT chose.
        const mo = new Materializer(conv);
        const me = new Materializer(conv);
        for (const step of conv.steps) {
          const { port, kind, frame: fo } = mo.frame(step);
          const fe = me.frame(step).frame;
          const exhaustedBefore = r.ct.counters[CtReason.NAT_EXHAUSTED]!;
          runEngine(r, fe, port, conv.fam);
          const refused = r.ct.counters[CtReason.NAT_EXHAUSTED]! > exhaustedBefore;
          const got = (await ovs.send(port, fo.slice(), { port: OUT, count: 1 })).get(OUT) ?? [];
          n.packets++;
          expect({ step, out: got.length }).toEqual({ step, out: 1 });
          const out = Uint8Array.from(Buffer.from(got[0]!, 'hex'));
          mo.saw(step, out);
          me.saw(step, fe);
          const nat = out[11]! & (CtState.SNAT | CtState.DNAT);
          if (refused) n.refused++;
          if (kind === 'fwdV' && nat) {
            // Both sides' choices in the range; the engine's packet relabelled to OVS's ports.
            const t = tupleOf(out);
            const te = tupleOf(fe);
            const inRange = (p: number, lo: number): boolean => p >= lo && p <= lo + 2;
            expect({ step, ovs: pipe === 26 ? inRange(t.sport, 20000) : inRange(t.dport, 8080) }).toEqual({ step, ovs: true });
            expect({ step, engine: pipe === 26 ? inRange(te.sport, 20000) : inRange(te.dport, 8080) }).toEqual({ step, engine: true });
            const cport = conv.conns![mo.connOf(step)]!.cport;
            if (pipe === 27 && t.sport !== cport) n.moved++;
            // Only the port the hash picks is relabelled (SNAT's source, DNAT's destination): a DNAT source port moves
            // only when the whole destination range is taken, which does not depend on the hash.
            r.decoder.decode(fe, r.d);
            if (pipe === 26 ? te.sport !== t.sport : te.dport !== t.dport) n.differ++;
            if (pipe === 26) rewritePort(fe, r.d, 0, t.sport);
            else rewritePort(fe, r.d, 2, t.dport);
            n.relabelled++;
          }
          expect({ step, out: got }).toEqual({ step, out: [hex(fe)] });
        }
        const theirs = (await ovs.appctlAsync('dpctl/dump-conntrack')).split('\n').filter((l) => l.trim() !== '');
        expect(r.ct.formatDump(r.now)).toHaveLength(theirs.length);
      }),
      { numRuns: RANGE_CASES, seed: SEED, verbose: 1, endOnFailure: process.env.VIPPATH_CT_SHRINK === '0' },
    );
    console.log(`conntrack vs OVS (NAT ranges): ${n.packets} packets, ${n.relabelled} forward packets relabelled (${n.differ} where the engine's port was not OVS's), ${n.moved} DNAT source ports moved, ${n.refused} commits refused`);
    expect(n.refused).toBeGreaterThan(0);
    expect(n.differ).toBeGreaterThan(0);
  }, Math.max(120_000, RANGE_CASES * 4_000));

  // An address range: OVS 3.1 picks one address of it by the hash (find_addr) and searches ports at that address
  // only; it does not try the range's other addresses when they are all taken there. With two addresses and one port,
  // a second connection is refused whenever the hash lands on the first one's address — in OVS (its random basis)
  // and in the engine (its hash seed) alike, in about half of the trials; an engine that went on to the other address
  // would never refuse.
  it('NAT to an address range: one address by the hash, no other tried (OVS and the engine refuse some second connections)', async () => {
    const trials = 16;
    const a = ADDR[4];
    const pool = '192.0.2.1-192.0.2.2';
    await replaceFlows([...flows(), `table=0,priority=40000,ip,in_port=2,udp,tp_dst=5353,actions=ct(commit,zone=5,nat(src=${pool}:20000),table=1)`]);
    let ovsRefused = 0;
    let engineRefused = 0;
    try {
      for (let t = 0; t < trials; t++) {
        await ovs.appctlAsync('dpctl/flush-conntrack');
        const r = new Runner({ seed: t + 1 });
        for (const sport of [1000 + 2 * t, 1001 + 2 * t]) {
          const f = frame({ src: a.C, dst: a.V, proto: 'udp', sport, dport: 5353 });
          const out = (await ovs.send(2, f.slice(), { port: OUT, count: 1 })).get(OUT)?.[0] ?? '';
          r.res.reset();
          r.call(f, { zone: 5, commit: true, snat: `${pool}:20000` });
          const ovsState = Number.parseInt(out.slice(22, 24), 16);
          // Either side: translated to one of the pool's addresses at port 20000, or refused (new, untranslated).
          for (const [who, st, bytes] of [['ovs', ovsState, out], ['engine', r.res.state, hex(f)]] as const) {
            const t4 = tupleOf(Uint8Array.from(Buffer.from(bytes, 'hex')));
            const ok = st & CtState.SNAT ? ['192.0.2.1', '192.0.2.2'].includes(t4.src) && t4.sport === 20000 : t4.src === a.C && t4.sport === sport;
            expect({ who, sport, ok }).toEqual({ who, sport, ok: true });
          }
          if (sport === 1000 + 2 * t) {
            // The first connection always gets a tuple.
            expect({ sport, ovs: ovsState & CtState.SNAT, engine: r.res.state & CtState.SNAT }).toEqual({ sport, ovs: CtState.SNAT, engine: CtState.SNAT });
            continue;
          }
          if (!(ovsState & CtState.SNAT)) ovsRefused++;
          if (!(r.res.state & CtState.SNAT)) engineRefused++;
        }
      }
    } finally {
      await replaceFlows(flows());
    }
    console.log(`conntrack vs OVS (address range): second connections refused, of ${trials}: OVS ${ovsRefused}, the engine ${engineRefused}`);
    // Each second connection is a coin toss (P = 1/2): OVS outside 1..15 of 16 has probability 2^-15; the engine's seeds are fixed.
    expect(ovsRefused).toBeGreaterThan(0);
    expect(engineRefused).toBeGreaterThan(0);
    expect(ovsRefused).toBeLessThan(trials);
    expect(engineRefused).toBeLessThan(trials);
  });

  // IPv4 options and IPv6 extension headers (extConvArb) on the packets, on what ICMP errors embed, or both.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${EXT_CASES} conversations with IPv4 options or IPv6 extension headers: same connection, state, NAT rewrite at the shifted offsets (seed ${SEED})`, async () => {
    const carried = new Map<string, number>();
    const counted = extConvArb.map((c) => {
      const what = c.fam === 4 ? `v4 ${c.ext!.v4.length} bytes` : c.ext!.v6.join('+');
      carried.set(c.ext!.where, (carried.get(c.ext!.where) ?? 0) + 1);
      carried.set(what, (carried.get(what) ?? 0) + 1);
      return c;
    });
    const { fast } = await compare(counted, EXT_CASES, 'options and extension headers');
    console.log(`conntrack vs OVS (options and extension headers): ${[...carried].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    expect(fast).toBeGreaterThan(0);
  }, Math.max(120_000, EXT_CASES * 5_000));
  // TCP option layouts and windows (optsConvArb): the window scale OVS takes from each SYN, and the bounds it builds.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${OPTS_CASES} TCP conversations with generated option layouts and windows: same scale taken, same state, same table (seed ${SEED})`, async () => {
    const decoder = new FrameDecoder();
    const d = new DecodedFrame();
    const reached = new Map<string, number>();
    const tally = (k: string): void => void reached.set(k, (reached.get(k) ?? 0) + 1);
    const { fast, dumped } = await compare(optsConvArb, OPTS_CASES, 'TCP options and windows', {
      onStep: (x) => {
        decoder.decode(x.sent, d);
        if (d.ipProto !== 6 || d.l4Offset < 0) return;
        const at = d.l4Offset;
        const win = read16(x.sent, at + 14);
        if (win < 2) tally(`window ${win}`);
        if (x.step.ackAt !== undefined && (d.tcpFlags & F.ACK) !== 0) tally('ack at a bound');
        if ((d.tcpFlags & F.SYN) === 0) {
          if (x.sent[at + 12]! >> 4 > 5 && d.payloadLength > 0) tally('data after options');
          return;
        }
        // The engine's own reading of the option (the oracle is OVS's output): tallied to show the layouts reach each case.
        const ws = tcpWscale(x.sent, at);
        tally(`${d.tcpFlags & F.ACK ? 'SYN|ACK' : 'SYN'} ${ws === 0 ? 'no scale' : `shift ${ws & 0xf}`}`);
      },
    });
    console.log(`conntrack vs OVS (TCP options and windows): ${[...reached].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    expect(fast).toBeGreaterThan(0);
    for (const k of ['SYN shift 14', 'SYN shift 0', 'SYN no scale', 'SYN|ACK shift 14', 'window 0', 'data after options', 'ack at a bound']) expect({ k, n: reached.get(k) ?? 0 }).not.toEqual({ k, n: 0 });
    // OVS's own record of the scales it took (dump-conntrack -m), compared line for line with the engine's.
    for (const k of ['both scales', 'one scale', 'WINDOW_SCALE']) expect({ k, n: dumped.get(k) ?? 0 }).not.toEqual({ k, n: 0 });
  }, Math.max(120_000, OPTS_CASES * 5_000));
  /** Tallies over a rewrite test's conversations. */
  interface RwTally {
    packets: number;
    /** Conversations cut at a force-expired NAT connection (see rwConversation). */
    cut: number;
    crashes: number;
    /** ct_state after the second ct(), by value. */
    seen: Map<number, number>;
  }
  /**
   * What a rewrite test counts of one step on the plain engine, before its second ct(): `r` holds the first call's
   * result (ct_clear: cleared), `mid` the packet as the first call left it (before the rewrite) and its ct_state, `f`
   * the packet after the rewrite.
   */
  type RwCount = (r: Runner, conv: RwConv, step: RwStep, mid: { pre: Uint8Array; state: number }, f: Uint8Array) => void;
  const rwKey = (t: RwTuple): string => `${long6or4(t.src)}|${long6or4(t.dst)}|${t.sport}|${t.dport}`;
  /**
   * What the second ct() of a packet NATed by the first, now with tuple `t`, meets in zone 5 (by the plain engine's
   * table): whether a connection holds its reverse key, and whether that is OVS's UN_NAT case — a NAT connection's
   * reply, whose original key process_one looks up again, shadowed there by another connection's reply key (one
   * committed from the translated reverse without NAT), which answers instead (OvsConntrack's unNatLookup).
   */
  function reverseLook(r: Runner, t: RwTuple): { found: boolean; shadowed: boolean } {
    const rev = rwKey({ src: t.dst, dst: t.src, sport: t.dport, dport: t.sport });
    const conns = r.ct.connections(r.now, 5);
    const hit = conns.find((c) => rwKey(c.orig) === rev || rwKey(c.reply) === rev);
    const shadowed = !!hit?.nat && rwKey(hit.reply) === rev && conns.some((c) => c.slot !== hit.slot && rwKey(c.reply) === rwKey(hit.orig));
    return { found: hit !== undefined, shadowed };
  }
  const rwStates = (seen: Map<number, number>): string => {
    const names = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];
    return [...seen]
      .sort((x, y) => y[1] - x[1])
      .map(([st, k]) => `${names.filter((_, i) => st & (1 << i)).join('|') || 'none'}: ${k}`)
      .join(', ');
  };

  /** `cases` conversations of `arb` through OVS and the engine (plain and hinted), each step told to `count`. */
  async function rwProperty(title: string, arb: fc.Arbitrary<RwConv>, cases: number, count: RwCount): Promise<RwTally> {
    console.log(`conntrack vs OVS (${title}): seed ${SEED}, ${cases} conversations (VIPPATH_CT_SEED=${SEED} replays)`);
    const tally: RwTally = { packets: 0, cut: 0, crashes: 0, seen: new Map() };
    await fc.assert(
      fc.asyncProperty(arb, async (conv) => {
        if (process.env.VIPPATH_CT_TRACE) console.log(JSON.stringify(conv));
        try {
          await rwConversation(conv, tally, count);
        } catch (e) {
          if (ovs.alive()) throw e;
          tally.crashes++;
          await replaceDeadOvs(`during ${JSON.stringify(conv)}`);
        }
      }),
      { numRuns: cases, seed: SEED, verbose: 1, endOnFailure: process.env.VIPPATH_CT_SHRINK === '0' },
    );
    expect({ crashes: tally.crashes }).toEqual({ crashes: Math.min(tally.crashes, crashBound(cases)) });
    return tally;
  }

  async function rwConversation(conv: RwConv, tally: RwTally, count: RwCount): Promise<void> {
    await ovs.appctlAsync('dpctl/flush-conntrack');
    const r = new Runner();
    const h = new HintedRunner();
    const m = new RwMaterializer(conv);
    for (const [i, drawn] of conv.steps.entries()) {
      const { frame: f, step } = m.frame(drawn);
      const sent = f.slice();
      const fh = f.slice();
      // Each call's hint is its own site's (the executor's walk keeps one per ct step).
      runRewrite(h, fh, step, conv.fam, (k) => {
        if (k !== 'rewrite') h.begin(`${step.dir}#${step.conn}/${k}`);
      });
      const natBefore = r.ct.connections(r.now).filter((c) => c.nat).map((c) => c.slot);
      const forcedBefore = r.ct.counters[CtReason.FORCE_EXPIRED]!;
      const mid = { pre: f, state: 0 };
      runRewrite(r, f, step, conv.fam, (k) => {
        if (k === 'rewrite') {
          mid.pre = f.slice();
          mid.state = r.res.state;
        } else if (k === 2) count(r, conv, step, mid, f);
      });
      const alive = new Set(r.ct.connections(r.now).map((c) => c.slot));
      if (r.ct.counters[CtReason.FORCE_EXPIRED]! > forcedBefore && natBefore.some((slot) => !alive.has(slot))) {
        // OVS 3.1.0's UN_NAT entry outliving its connection (see the cut in compare): not compared past here.
        tally.cut++;
        return;
      }
      const got = (await ovs.send(RW_PORT, sent, { port: OUT, count: 1 })).get(OUT) ?? [];
      tally.packets++;
      tally.seen.set(f[11]!, (tally.seen.get(f[11]!) ?? 0) + 1);
      expect({ i, step, out: got }).toEqual({ i, step, out: [hex(f)] });
      expect({ i, step, hinted: got }).toEqual({ i, step, hinted: [hex(fh)] });
      m.saw(step, f);
    }
    const theirs = (await ovs.appctlAsync('dpctl/dump-conntrack', '-m', '-s')).split('\n').filter((l) => l.trim() !== '').sort();
    expect({ table: r.ct.formatDump(r.now, DUMP_MS) }).toEqual({ table: theirs });
    expect({ hinted: h.ct.formatDump(h.now, DUMP_MS) }).toEqual({ hinted: theirs });
  }

  // A caller's rewrite between two ct() of one zone (rewriteConvArb): whether the second call answers from the
  // connection the first remembered (process_one_fast) or looks the rewritten packet up, judged by OVS.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${REWRITE_CASES} conversations with a rewrite between two ct() of one zone: same bytes, ct_state and table as OVS (seed ${SEED})`, async () => {
    // remembered: the first call's packet was a live connection's (OVS's md.conn set); of those, the rewrite changed
    // the tuple (into another connection's original or reply tuple, or none's) or left it (the control: none, eth,
    // a value equal to the field's); the first call in the reply direction; +inv after the first call.
    const n = { remembered: 0, changed: 0, intoOrig: 0, intoReply: 0, intoNone: 0, kept: 0, cleared: 0, reply: 0, inv: 0 };
    // The corners past the 5-tuple, each on a packet whose first call left the engine remembering its connection
    // (its process_one_fast cache set; OVS's output then says whether that was right): the ICMP type or code changed,
    // an IPv6 address changed above its low word, an SCTP port changed, a value changed and put back (`back`: one
    // differing from the field), a TTL and TOS set.
    const x = { icmpType: 0, icmpCode: 0, v6hi: 0, sctp: 0, back: 0, ttl: 0 };
    const t = await rwProperty('rewrite between ct()', rewriteConvArb, REWRITE_CASES, (r, conv, step, { pre }, f) => {
      if ((r.ct as unknown as { cacheSlot: number }).cacheSlot >= 0) corner(conv, step, pre, f);
      const live = r.ct.connections(r.now, 5);
      const keys = (dir: 'orig' | 'reply'): string[] => live.map((c) => rwKey(c[dir]));
      if (step.rewrite === 'ct_clear') n.cleared++;
      else if (r.res.state & CtState.INV) n.inv++;
      if (r.res.state & CtState.RPL) n.reply++;
      const before = rwKey(tupleOf(pre));
      if (conv.proto === 'icmp' || (!keys('orig').includes(before) && !keys('reply').includes(before))) return;
      n.remembered++;
      const after = rwKey(tupleOf(f));
      if (after === before) {
        if (step.rewrite !== 'ct_clear') n.kept++;
        return;
      }
      n.changed++;
      if (keys('orig').includes(after)) n.intoOrig++;
      else if (keys('reply').includes(after)) n.intoReply++;
      else n.intoNone++;
    });
    console.log(
      `conntrack vs OVS (rewrite between ct()): ${t.packets} packets compared, plain and hinted; ${n.remembered} first calls on a live connection's packet, ` +
        `the rewrite changing its tuple in ${n.changed} (into another connection's original tuple ${n.intoOrig}, its reply tuple ${n.intoReply}, no connection's ${n.intoNone}), ` +
        `leaving it in ${n.kept}, ct_clear in ${n.cleared}; ${n.reply} first calls in the reply direction, ${n.inv} +inv; ` +
        `${t.cut} conversations cut at a force-expired NAT connection, ${t.crashes} ovs-vswitchd crashes; ct_state seen: ${rwStates(t.seen)}`,
    );
    console.log(
      `conntrack vs OVS (rewrite between ct()): on a remembered connection's packet, ICMP type changed ${x.icmpType}, ICMP code changed ${x.icmpCode}, ` +
        `IPv6 address changed above the low word ${x.v6hi}, SCTP port changed ${x.sctp}, changed and put back ${x.back}, TTL and TOS set ${x.ttl}`,
    );
    // At the default seed each corner is reached many times: a count near zero means the generator no longer does.
    for (const k of ['changed', 'intoOrig', 'intoReply', 'intoNone', 'kept', 'cleared', 'reply', 'inv'] as const) expect({ [k]: n[k] > 0 }).toEqual({ [k]: true });
    for (const k of Object.keys(x) as (keyof typeof x)[]) expect({ [k]: x[k] > 0 }).toEqual({ [k]: true });

    /** Counts the corner step `s` reached: `pre` its packet before the rewrite, `f` after. */
    function corner(conv: RwConv, s: RwStep, pre: Uint8Array, f: Uint8Array): void {
      const d = new DecodedFrame();
      new FrameDecoder().decode(pre, d);
      const l4 = d.l3Offset + d.ipHeaderLength;
      const ip = (b: Uint8Array): string => hex(b.subarray(d.l3Offset + (conv.fam === 4 ? 12 : 8), d.l3Offset + (conv.fam === 4 ? 20 : 40)));
      if (s.rewrite === 'icmp_type' && conv.proto === 'icmp' && pre[l4] !== f[l4]) x.icmpType++;
      else if (s.rewrite === 'icmp_code' && conv.proto === 'icmp' && pre[l4 + 1] !== f[l4 + 1]) x.icmpCode++;
      else if ((s.rewrite === 'v6hi_src' || s.rewrite === 'v6hi_dst') && ip(pre) !== ip(f)) x.v6hi++;
      else if ((s.rewrite === 'tp_src' || s.rewrite === 'tp_dst') && conv.proto === 'sctp' && read32(pre, l4) !== read32(f, l4)) x.sctp++;
      else if (s.rewrite === 'ttl') x.ttl++;
      else if (s.rewrite === 'back') {
        const dstLow = d.l3Offset + (conv.fam === 4 ? 16 : 36);
        const l4Differs = conv.proto === 'icmp' ? pre[l4] !== pre[0] : read16(pre, l4 + 2) !== read16(pre, 0);
        if (read32(pre, dstLow) !== read32(pre, 2) || l4Differs) x.back++;
      }
    }
  }, Math.max(120_000, REWRITE_CASES * 4_000));

  // The rewrite conversations with a first ct() with NAT (natFirstConvArb): after it OVS remembers no connection, so
  // the second ct() of the zone looks the packet up — by its reverse key when the first translated it — rewritten or
  // not.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${NATFIRST_CASES} conversations with a first ct() with NAT, a rewrite or none, a second ct() of the zone: same bytes, ct_state and table as OVS (seed ${SEED})`, async () => {
    // Steps by their first ct() with NAT and family (FIRSTS), the second ct() after a translating first.
    const by = new Map<string, number>(FIRSTS.filter((v) => v !== 'plain' && v !== 'commit').flatMap((v) => [`${v}/4`, `${v}/6`].map((k): [string, number] => [k, 0])));
    const second = new Map<Second, number>(SECONDS.map((v) => [v, 0]));
    // The first call translated the packet (of those +new: a connection it committed, or one not yet answered) or did
    // not (no connection, one without NAT, NAT refused); after a translation the rewrite changed the tuple (TCP and
    // UDP: the second call's lookup of its reverse key finding a connection, or none), left it (none, eth, ttl, back, a
    // value equal to the field's), or ct_clear; of those left +new, a TCP segment without SYN: where a remembered
    // connection would show (natFirstConvArb).
    const n = { translated: 0, newConn: 0, untranslated: 0, changed: 0, found: 0, missed: 0, left: 0, cleared: 0, tcpNoSynNewLeft: 0 };
    let shadowed = 0;
    const t = await rwProperty('first ct() with NAT', natFirstConvArb, NATFIRST_CASES, (r, conv, step, { pre, state }, f) => {
      if (step.first === 'plain' || step.first === 'commit') return;
      by.set(`${step.first}/${conv.fam}`, by.get(`${step.first}/${conv.fam}`)! + 1);
      if (!(state & (CtState.SNAT | CtState.DNAT))) {
        n.untranslated++;
        return;
      }
      n.translated++;
      second.set(step.second, second.get(step.second)! + 1);
      const fresh = (state & CtState.NEW) !== 0;
      if (fresh) n.newConn++;
      if (step.rewrite === 'ct_clear') {
        n.cleared++;
        return;
      }
      const now = tupleOf(f);
      if (rwKey(now) === rwKey(tupleOf(pre))) {
        n.left++;
        if (fresh && conv.proto === 'tcp' && !(TCP_FLAGS[step.flags]! & F.SYN)) n.tcpNoSynNewLeft++;
        return;
      }
      n.changed++;
      if (conv.proto !== 'tcp' && conv.proto !== 'udp') return;
      const look = reverseLook(r, now);
      if (look.found) n.found++;
      else n.missed++;
      if (look.shadowed) shadowed++;
    });
    console.log(
      `conntrack vs OVS (first ct() with NAT): ${t.packets} packets compared, plain and hinted; first calls with NAT by kind and family: ${[...by].map(([k, v]) => `${k}: ${v}`).join(', ')}; ` +
        `translated ${n.translated} (+new ${n.newConn}), not ${n.untranslated}; after a translation the rewrite changed the tuple in ${n.changed} ` +
        `(TCP/UDP: reverse key found ${n.found} — a NAT reply whose original another connection's reply shadows ${shadowed} —, none ${n.missed}), left it in ${n.left} (+new TCP without SYN ${n.tcpNoSynNewLeft}), ct_clear in ${n.cleared}; ` +
        `second ct() after a translation: ${[...second].map(([k, v]) => `${k}: ${v}`).join(', ')}; ` +
        `${t.cut} conversations cut at a force-expired NAT connection, ${t.crashes} ovs-vswitchd crashes; ct_state seen: ${rwStates(t.seen)}`,
    );
    // At the default seed each corner is reached several times: a count below 3 means the generator no longer does.
    for (const [k, v] of by) expect({ [k]: v >= 3 }).toEqual({ [k]: true });
    for (const [k, v] of second) expect({ [`second ${k}`]: v >= 3 }).toEqual({ [`second ${k}`]: true });
    for (const k of Object.keys(n) as (keyof typeof n)[]) expect({ [k]: n[k] >= 3 }).toEqual({ [k]: true });
  }, Math.max(120_000, NATFIRST_CASES * 4_000));

  // A natted packet's second look (unNatConvArb): OVS's UN_NAT branch looks the connection's original key up again,
  // and a later connection whose reply key it is answers — the packet is that connection's reply.
  it.skipIf(!!process.env.VIPPATH_CT_CONV)(`${UNNAT_CASES} conversations where a natted packet's reverse key is a NAT connection's reply whose original another connection's reply key shadows: same bytes, ct_state and table as OVS (seed ${SEED})`, async () => {
    let natted = 0;
    let shadowed = 0;
    const t = await rwProperty('UN_NAT second look', unNatConvArb, UNNAT_CASES, (r, _conv, step, { state }, f) => {
      if (!(state & (CtState.SNAT | CtState.DNAT)) || step.rewrite === 'ct_clear') return;
      natted++;
      if (reverseLook(r, tupleOf(f)).shadowed) shadowed++;
    });
    console.log(`conntrack vs OVS (UN_NAT second look): ${t.packets} packets compared, plain and hinted; ${natted} second ct() calls of a natted packet, ${shadowed} of them a NAT reply whose original another connection's reply key shadows; ${t.cut} conversations cut, ${t.crashes} crashes; ct_state seen: ${rwStates(t.seen)}`);
    expect({ shadowed: shadowed >= 3 }).toEqual({ shadowed: true });
  }, Math.max(120_000, UNNAT_CASES * 4_000));
});
