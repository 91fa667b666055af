/**
 * A connection's replayed conntrack call whose lookup found the very node the step names (same slot and direction,
 * slot generation and engine epoch unchanged) compares only what a live connection changes — its state, mark and
 * label (executor.ts `replayConn`). Northd's switch flows never change a live connection's mark and seldom remake a
 * connection under the same key, so the megaflow property hardly reaches the cases where that shortcut would be
 * wrong. Here the flows do: a client's segment with TTL 9 commits `ct_mark = 5` on its established connection and one
 * with TTL 8 a label, and the next table routes on mark, label and the translated destination; a SYN with TTL 7
 * makes its connection with DNAT to another address; time jumps expire and sweep connections (their slots reused by
 * the next SYN under the same key, the generation moved) and flushes clear the table (slots reused under the same
 * generation, the epoch moved). A cached and an uncached executor on one chassis, each with its own OvsConntrack, run
 * the same packets: outputs (ports, bytes), drops and the conntrack table must be equal after every packet. Leaving
 * the mark and label out of the shortcut's compare, or the generation or the epoch out of its condition, fails here.
 * Those label writes come with `ct_mark = 0`, which on a translated connection clears ct_lb_mark's bit, so the mark's
 * compare alone caught most of them: flows committing one label word (or the mark) each, read back into the source
 * MAC, have their own case, where leaving out the compare of the mark or of any one of the four words fails.
 *
 * Recording's guards have their own cases: connHeadersKept (a walk may write no header word but the Ethernet
 * addresses) — flows writing the addresses and ports the frame holds, where a walk kept over the write outputs other
 * bytes; connPre's input rule (a call's ct words are all 0 after a ct_clear or a chassis' hidden ct_commit, else the
 * previous call's outcome, not compared) — flows writing ct words, which OVN's parser refuses and so does this one
 * (a segment with such a write would be graded 0: conn-grade.test.ts).
 *
 * A hinted call that found its step's node may leave the original tuple unwritten (HintedConntrackEngine.executeHinted):
 * an engine filling such a tuple with junk, and flows making a second call in the ingress zone and reading the tuple
 * after it, show the replay puts the recorded tuple back wherever it is read — before a call in the same zone and
 * before the walk is taken again — and reads it nowhere else. Where zones track a connection apart (one flushed
 * alone and remade from the other side, segments dropped between the ingress and the egress zone), a left tuple put
 * back before a later call than the next in its zone, and connEnd asking the walk's first node's peer states instead
 * of its last's, fail; so does putting back the recorded tuple after a call without hints (an engine writing the
 * tuple as ovn-trace does).
 *
 * A walk taken again puts back in the frame each answered call's translated addresses and ports, which the read-back
 * after it takes into the words (restoreNatFields): flows translating a segment twice (p1's zone, then the DNAT zone)
 * and routing on the first translation show a frame left with the live call's address or port routed otherwise.
 *
 * Seeds: 20261211 unless VIPPATH_REPLAY_SEED gives one (`random`: a new one, printed); VIPPATH_REPLAY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import type { DecodedFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { checkPromises } from '../ct/packets.test-helpers.js';
import { CtState, type ConntrackEngine, type CtRequest, type CtResult, type HintedConntrackEngine } from './ct-api.js';
import { DNAT_ZONE, LflowExecutor } from './executor.js';
import { LflowRefusal } from './lexer.js';
import { mixHash } from './megaflow.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const SEED_ENV = process.env.VIPPATH_REPLAY_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261211;
const RUNS = Number(process.env.VIPPATH_REPLAY_RUNS ?? 200);

/**
 * `readsFlags`: one more flow, which sends a client's PSH|ACK to p2 whatever its translation (keys keep the flags).
 * `rewritesTtl`: flows that write a header word no frame byte follows here (storeFrame writes the addresses and
 * ports, not these) between the two calls of an established connection's frames: TTL 4 to 3, TTL 11's DSCP, TTL
 * 12's ECN as constants; TTL 14 decremented, TTL 15's DSCP moved from a register, TTL 16 and 17 exchanged with one.
 * Only the replay's counts can tell a walk kept over them (its outputs are the uncached walk's anyway).
 * `rewritesHeaders`: flows that write a header word the frame holds, so that a walk kept over the write outputs other
 * bytes than the uncached walk: after the last call (the egress pipeline's output stage) TTL 33's IPv4 source,
 * TTL 34's destination, TTL 35's TCP source port, TTL 36's destination port; between the calls (ingress, after the
 * first) an established connection's TTL 37's TCP source port (the egress call then tracks another tuple).
 */
function southbound(readsFlags = false, rewritesTtl = false, rewritesHeaders = false, readsTuple = false, more: Flows = {}): SouthboundState {
  const { flows, add } = flowList();
  if (more.egressPair) {
    // TTL 66: no NAT in the ingress zone (ct_next, whose connection process_one_fast keeps), two calls in the egress
    // zone (the second process_one_fast's, translating: no connection kept for the next frame), and the egress
    // zone's tuple read after the second.
    add('ingress', 0, 10, 'ip.ttl == 66', 'ct_next;');
    add('egress', 1, 5, 'ct.est && ip.ttl == 66', 'ct_lb_mark;');
    add('egress', 2, 20, 'ip.ttl == 66 && ct_tp_dst == 80', 'eth.src = 00:00:00:00:00:0f; output;');
  }
  if (more.readsPorts) {
    add('ingress', 2, 35, 'inport == "p1" && ip.ttl == 64 && tcp.src == 40001', 'eth.dst = 00:00:00:00:00:0b; outport = "p2"; output;');
    add('egress', 2, 25, 'outport == "p1" && ip.ttl == 64 && tcp.dst == 40002', 'eth.src = 00:00:00:00:00:0c; output;');
  }
  // After p1's call: its original tuple's destination port (the client's frame's, which no other flow here reads).
  if (more.readsTupleDst) add('ingress', 2, 6, 'inport == "p1" && ct_tp_dst == 80', 'eth.dst = 00:00:00:00:00:0a; outport = "p2"; output;');
  if (more.writesSrc) add('egress', 2, 15, 'inport == "p1" && ip.ttl == 64', 'eth.src = 00:00:00:00:00:0d; output;');
  // TTL 3: dropped after the ingress pipeline's calls, so that only the inport's zone tracks the segment.
  if (more.dropsTtl3) add('ingress', 2, 40, 'ip.ttl == 3', 'drop;');
  // ct_lb_mark without backends: the existing connection's NAT, in the inport's zone (reg13).
  add('ingress', 0, 0, '1', 'ct_lb_mark;');
  add('ingress', 1, 20, 'ct.new && ip.ttl == 7', 'ct_lb_mark(backends=10.0.0.70:80);');
  add('ingress', 1, 20, 'ct.new && ip.ttl == 5', 'ct_lb_mark(backends=10.0.0.71:80);');
  add('ingress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('ingress', 1, 5, 'ct.est && ip.ttl == 9', 'ct_commit { ct_mark = 5; }; next;');
  add('ingress', 1, 5, 'ct.est && ip.ttl == 8', 'ct_commit { ct_mark = 0; ct_label.label = 3; }; next;');
  add('ingress', 1, 5, 'ct.est && ip.ttl == 6', 'ct_commit { ct_mark = 0; ct_label.label = 0; }; next;');
  if (rewritesTtl) {
    add('ingress', 1, 5, 'ct.est && ip.ttl == 4', 'ip.ttl = 3; next;');
    add('ingress', 1, 5, 'ct.est && ip.ttl == 11', 'ip.dscp = 10; next;');
    add('ingress', 1, 5, 'ct.est && ip.ttl == 12', 'ip.ecn = 1; next;');
    // The same words by the instructions that are not constant writes (executor.ts writesL3's cases).
    add('ingress', 1, 5, 'ct.est && ip.ttl == 14', 'ip.ttl--; next;');
    add('ingress', 1, 5, 'ct.est && ip.ttl == 15', 'reg1[0..5] = 9; ip.dscp = reg1[0..5]; next;');
    add('ingress', 1, 5, 'ct.est && ip.ttl == 16', 'reg1[0..7] = 20; ip.ttl <-> reg1[0..7]; next;');
    add('ingress', 1, 5, 'ct.est && ip.ttl == 17', 'reg1[0..7] = 21; reg1[0..7] <-> ip.ttl; next;');
  }
  if (rewritesHeaders) add('ingress', 1, 5, 'ct.est && ip.ttl == 37', 'tcp.src = 41000; next;');
  if (more.labels) {
    // Commits on an established connection, each writing one word of its label or its mark (masked, as OVN's
    // ct_label.blocked and ct_label.label are), and a flow copying the low byte of each word into the source MAC, so
    // that a walk replayed over a stale outcome outputs other bytes than the uncached walk.
    for (const [ttl, w] of LABEL_WRITES) add('ingress', 1, 5, `ct.est && ip.ttl == ${ttl}`, `ct_commit { ${w}; }; next;`);
    add('ingress', 1, 1, 'ct.est', 'eth.src[0..7] = ct_mark[0..7]; eth.src[8..15] = ct_label[0..7]; eth.src[16..23] = ct_label[32..39]; eth.src[24..31] = ct_label[64..71]; eth.src[32..39] = ct_label[96..103]; next;');
  }
  add('ingress', 1, 0, '1', 'next;');
  if (readsFlags) add('ingress', 2, 25, 'inport == "p1" && tcp.flags == 0x18', 'outport = "p2"; output;');
  // A second call in the ingress zone (its input the first call's outcome, tuple included), and the ingress calls'
  // original tuple read after them (as OVN's hairpin checks read ct_nw_dst and ct_tp_dst).
  if (readsTuple) add('ingress', 1, 7, 'ct.est && ip.ttl == 64', 'ct_lb_mark;');
  if (readsTuple) add('ingress', 2, 30, 'inport == "p1" && ct_nw_dst == 10.0.0.2 && ct_tp_dst == 80', 'eth.dst = 00:00:00:00:00:09; outport = "p2"; output;');
  add('ingress', 2, 20, 'inport == "p1" && ct_mark == 5', 'outport = "p3"; output;');
  add('ingress', 2, 15, 'inport == "p1" && ct_label.label == 3', 'outport = "p3"; output;');
  // Both translated addresses are behind p3 (one egress zone), each with its own MAC (as Kube-OVN's
  // ls_dnat_mod_dl_dst sends a DNATed packet to its backend's MAC): only the frame's bytes tell the two apart.
  add('ingress', 2, 10, 'inport == "p1" && ip4.dst == 10.0.0.70', 'eth.dst = 00:00:00:00:00:03; outport = "p3"; output;');
  add('ingress', 2, 10, 'inport == "p1" && ip4.dst == 10.0.0.71', 'eth.dst = 00:00:00:00:00:04; outport = "p3"; output;');
  add('ingress', 2, 5, 'inport == "p1"', 'outport = "p2"; output;');
  add('ingress', 2, 0, '1', 'outport = "p1"; output;');
  // A second call per packet in the egress pipeline, in the outport's zone (committed there too, as the switch's
  // stateful stage does).
  add('egress', 0, 0, '1', 'ct_next;');
  add('egress', 1, 10, 'ct.new', 'ct_commit; next;');
  // A mark committed in the egress zone only (TTL 13), and the egress call's original tuple read after it (TTL 65).
  if (readsTuple) add('egress', 1, 5, 'ct.est && ip.ttl == 13', 'ct_commit { ct_mark = 7; }; next;');
  if (more.twoDnats) {
    // A second DNAT, in the datapath's DNAT zone, of what p1's zone made 10.0.0.70:80: to 10.0.0.71 by the segment
    // that makes p3's connection (committed there too), to 10.0.0.72:8080 by an established segment with TTL 50 (the
    // DNAT zone's connection made again after a flush), then applied to every established segment after p3's
    // ct_next — a walk of three calls, the first and the last translating.
    add('egress', 1, 20, 'ct.new && ip4.dst == 10.0.0.70', 'ct_commit; ct_dnat(10.0.0.71);');
    add('egress', 1, 15, 'ct.est && ip.ttl == 50 && ip4.dst == 10.0.0.70 && tcp.dst == 80', 'ct_dnat(10.0.0.72, 8080);');
    add('egress', 1, 5, 'ct.est && ip4.dst == 10.0.0.70 && tcp.dst == 80', 'ct_dnat;');
  }
  add('egress', 1, 0, '1', 'next;');
  if (readsTuple) add('egress', 2, 20, 'ip.ttl == 65 && ct_tp_dst == 80', 'eth.src = 00:00:00:00:00:0e; output;');
  if (rewritesHeaders) {
    add('egress', 2, 10, 'ip.ttl == 33', 'ip4.src = 10.0.9.9; output;');
    add('egress', 2, 10, 'ip.ttl == 34', 'ip4.dst = 10.0.9.8; output;');
    add('egress', 2, 10, 'ip.ttl == 35', 'tcp.src = 4242; output;');
    add('egress', 2, 10, 'ip.ttl == 36', 'tcp.dst = 8080; output;');
  }
  add('egress', 2, 0, '1', 'output;');
  return oneSwitch(flows, [
    vif('p1', 2, '00:00:00:00:00:01 10.0.1.1'),
    vif('p2', 3, '00:00:00:00:00:02 10.0.0.2'),
    vif('p3', 4, '00:00:00:00:00:03 10.0.0.70', '00:00:00:00:00:04 10.0.0.71'),
  ]);

}

/**
 * More flows for southbound. `egressPair`: a client's or server's segment with TTL 66 makes its ingress call without
 * NAT (ct_next), its egress call, and an established one a second egress call, after which a flow reads ct_tp_dst.
 * `dropsTtl3`: a segment with TTL 3 is dropped after its ingress calls (as an ACL would), never reaching the egress zone.
 */
interface Flows {
  egressPair?: boolean;
  /**
   * Flows deciding on the client's port: its TTL-64 segments from port 40001 (`tcp.src`) leave with another
   * destination MAC; the servers' TTL-64 segments to port 40002 (`tcp.dst`) another source MAC — a walk template
   * (ConnTemplate) must tell these connections' walks from the others'.
   */
  readsPorts?: boolean;
  /**
   * The client's segments whose call in p1's zone gives an original tuple to port 80 (`ct_tp_dst`, a ct tuple word)
   * leave with destination MAC 00:00:00:00:00:0a: a connection to another port (a connect step's `dport`) does not.
   */
  readsTupleDst?: boolean;
  /** The client's TTL-64 segments leave with source MAC 00:00:00:00:00:0d (the egress pipeline's output stage). */
  writesSrc?: boolean;
  dropsTtl3?: boolean;
  /**
   * A segment with a TTL of LABEL_WRITES commits its write on its connection in the ingress zone; every established
   * segment's source MAC then takes the low byte of the mark and of each label word.
   */
  labels?: boolean;
  /**
   * A client's segment to 10.0.0.70 is translated again in the egress pipeline, in the datapath's DNAT zone
   * (DNAT_ZONE), to 10.0.0.71 (that zone's connection made with p3's) or 10.0.0.72:8080 (made by a segment with TTL
   * 50).
   */
  twoDnats?: boolean;
}

/**
 * The commits of Flows.labels, by TTL: each word of ct_label set (word 0 by ct_label.blocked, word 3 by
 * ct_label.label), word 1 by two commits whose masks leave each other's bits, the mark, and everything cleared.
 */
const LABEL_WRITES = [
  [20, 'ct_label.blocked = 1'],
  [21, 'ct_label[32..35] = 3'],
  [22, 'ct_label[36..39] = 5'],
  [23, 'ct_label[64..71] = 0x22'],
  [24, 'ct_label.label = 7'],
  [25, 'ct_mark = 9'],
  [26, 'ct_mark = 0; ct_label = 0'],
] as const;

interface Pkt {
  /** A client's segment (p1), the server's answer (from p2, or from p3 at the address a SYN with TTL 7 or 5 was translated to). */
  kind: 'client' | 'server';
  sport: number;
  flags: number;
  ttl: number;
  /** The server's address: 0 the VIP's (not translated), 1 10.0.0.70, 2 10.0.0.71. */
  nat: number;
  /** The server's port (80 if not given). */
  dport?: number;
}
const SERVERS = [
  { port: 'p2', mac: '00:00:00:00:00:02', ip: '10.0.0.2', synTtl: 64 },
  { port: 'p3', mac: '00:00:00:00:00:03', ip: '10.0.0.70', synTtl: 7 },
  { port: 'p3', mac: '00:00:00:00:00:04', ip: '10.0.0.71', synTtl: 5 },
] as const;

/**
 * A step: a handshake (the SYN with TTL 7 translated, else not), segments of a connection (each sent 1–6 times in a
 * row: a walk is recorded the first time its key comes — the third where a flow reads the TCP flags — then replayed), a server's answer, a flush of both tables (or of one zone),
 * time passing (past the SYN_SENT and CLOSED timeouts of 30 s and the sweep interval of 20 s; past the established
 * timeout of 24 h).
 */
type Step = { op: 'connect'; sport: number; nat: number; dport?: number } | { op: 'send'; pkt: Pkt; times: number } | { op: 'flush'; zone?: number } | { op: 'wait'; dt: number };
const sport = fc.constantFrom(40000, 40001);
const TTLS = [64, 64, 64, 9, 8, 6] as const;
/**
 * Steps whose segments carry one of `ttls` (the flows above choose by TTL) and a client port `sports` gives (one: every
 * segment of one connection); `zones`: flushes of one of these zones too (each port's: its tunnel key), which leave
 * another zone's connection of the same packets as it was.
 */
const stepOf = (ttls: readonly number[], zones: readonly number[] = [], sports = sport): fc.Arbitrary<Step> => fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('connect' as const), sport: sports, nat: fc.nat(2) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('send' as const),
      pkt: fc.record({
        kind: fc.constantFrom<Pkt['kind']>('client', 'client', 'client', 'server'),
        sport: sports,
        // ACK, PSH-ACK, FIN-ACK, RST, or any combination of the eight flags (a SYN among them remakes a closed
        // connection under its tuple; conntrack refuses the combinations no stack sends).
        flags: fc.oneof(fc.constantFrom(0x10, 0x10, 0x10, 0x18, 0x11, 0x04), fc.integer({ min: 0, max: 0xff })),
        ttl: fc.constantFrom(...ttls),
        nat: fc.nat(2),
      }),
      times: fc.constantFrom(1, 2, 4, 6),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wait' as const), dt: fc.constantFrom(1, 1000, 40_000, 90_000_000) }) },
  ...(zones.length > 0 ? [{ weight: 2, arbitrary: fc.record({ op: fc.constant('flush' as const), zone: fc.constantFrom(...zones) }) }] : []),
);
const step = stepOf(TTLS);

/** The client's and the server's initial sequence numbers (uint32). */
type Isns = readonly [client: number, server: number];

/**
 * `macs`: each client port its own MAC (02:00:00:00 and the port), as the client's frames' source and the servers'
 * destination — addresses that no flow here reads; `'ips'`: its own IPv4 address too (10.0.1.2 and up, by the port),
 * which no flow here reads either.
 */
function frameOf(p: Pkt, [ci, si]: Isns = [1000, 5000], macs: boolean | 'ips' = false): Uint8Array {
  const syn = (p.flags & 0x02) !== 0;
  const c1 = (ci + 1) >>> 0;
  const s1 = (si + 1) >>> 0;
  const client = macs !== false ? `02:00:00:00:${(p.sport >> 8).toString(16).padStart(2, '0')}:${(p.sport & 255).toString(16).padStart(2, '0')}` : '00:00:00:00:00:01';
  const clientIp = macs === 'ips' ? `10.0.1.${(p.sport & 127) + 2}` : '10.0.1.1';
  if (p.kind === 'client') {
    return buildFrame({ src: client, dst: '00:00:00:00:00:02', ipv4: { src: clientIp, dst: '10.0.0.2', ttl: p.ttl }, tcp: { srcPort: p.sport, dstPort: p.dport ?? 80, flags: p.flags, seq: syn ? ci : c1, ack: p.flags & 0x10 ? s1 : 0 } });
  }
  const srv = SERVERS[p.nat]!;
  return buildFrame({ src: srv.mac, dst: client, ipv4: { src: srv.ip, dst: clientIp, ttl: p.ttl }, tcp: { srcPort: p.dport ?? 80, dstPort: p.sport, flags: p.flags, seq: syn ? si : s1, ack: p.flags & 0x10 ? c1 : 0 } });
}

function view(ex: LflowExecutor, ct: OvsConntrack, frame: Uint8Array, inport: string, now: number): string {
  const buf = new Uint8Array(frame.length + 8);
  buf.set(frame);
  const r = ex.runFrame(buf, frame.length, inport, now);
  // exec stores its ct ops' sync flags only true and clears neither after the call: every way through a call clears
  // them (answerCt's for a walk taken again among them). A flag left true would skip or narrow the next walk's sync.
  const flags = ex as unknown as { syncSkip: boolean; syncNear: boolean };
  if (flags.syncSkip !== false || flags.syncNear !== false) throw new Error(`a ct sync flag left set after the run: skip ${flags.syncSkip}, near ${flags.syncNear}`);
  return JSON.stringify({
    outputs: r.outputs.map((o) => [o.port, [...o.frame.subarray(0, o.length)]]),
    drops: r.drops.map((d) => [d.pipeline, d.table, d.reason]),
    ct: ct.connections(now),
  });
}

/**
 * Plays `seq` through two executors (each with the engine it was given) and fails at the first packet whose views
 * differ: a flush on both engines, a wait moving their clock, a packet sent, or a connection's handshake (SYN, the
 * server's SYN|ACK, four ACKs); `macs` as frameOf's. Returns the clock at the end.
 */
function play(seq: readonly Step[], [a, cta]: readonly [LflowExecutor, OvsConntrack], [b, ctb]: readonly [LflowExecutor, OvsConntrack], isns?: Isns, macs: boolean | 'ips' = false): number {
  let now = 1000;
  const send = (i: number, p: Pkt, times: number): void => {
    const f = frameOf(p, isns, macs);
    const inport = p.kind === 'client' ? 'p1' : SERVERS[p.nat]!.port;
    for (let t = 0; t < times; t++) {
      const x = view(a, cta, f, inport, now);
      const y = view(b, ctb, f, inport, now);
      if (x !== y) expect({ step: i, time: t, p, result: x }).toEqual({ step: i, time: t, p, result: y });
    }
  };
  seq.forEach((st, i) => {
    if (st.op === 'flush') {
      cta.flush(st.zone);
      ctb.flush(st.zone);
    } else if (st.op === 'wait') now += st.dt;
    else if (st.op === 'send') send(i, st.pkt, st.times);
    else {
      const dport = st.dport;
      send(i, { kind: 'client', sport: st.sport, flags: 0x02, ttl: SERVERS[st.nat]!.synTtl, nat: 0, dport }, 1);
      send(i, { kind: 'server', sport: st.sport, flags: 0x12, ttl: 64, nat: st.nat, dport }, 1);
      send(i, { kind: 'client', sport: st.sport, flags: 0x10, ttl: 64, nat: 0, dport }, 4);
    }
  });
  return now;
}

/**
 * Runs the steps through a cached and an uncached executor (each its own OvsConntrack, chassis mode) and fails at
 * the first packet whose outputs, drops or conntrack table differ; returns the cached one's replay counters and the
 * conntrack dump after the last step.
 */
function compare(seq: readonly Step[], connSlots?: number, readsFlags = false, isns?: Isns, rewritesTtl = false, rewritesHeaders = false, junk?: JunkTuple | PlainEngine | TraceTuple, more: Flows = {}): { connHits: number; connBreaks: number; connEntries: number; slots: string } {
  const sb = southbound(readsFlags, rewritesTtl, rewritesHeaders, junk instanceof JunkTuple || junk instanceof TraceTuple, more);
  const cta = junk?.inner ?? new OvsConntrack();
  // The uncached walk's engine answers alike: TraceTuple's tuples are not OvsConntrack's.
  const engb = junk instanceof TraceTuple ? new TraceTuple() : new OvsConntrack();
  const ctb = engb instanceof TraceTuple ? engb.inner : engb;
  const a = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: junk ?? cta, wordsOut: false });
  const b = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: engb, wordsOut: false });
  a.enableMegaflows(connSlots !== undefined ? { connSlots, templates } : { templates });
  const now = play(seq, [a, cta], [b, ctb], isns);
  const s = a.megaflowStats();
  return { connHits: s.connHits, connBreaks: s.connBreaks, connEntries: s.connEntries, slots: JSON.stringify(cta.connections(now).map((c) => [c.zone, c.slot, c.reply.src])) };
}

/**
 * Whether the cached executors made here fill new connections' slots from other connections' walks (ConnTemplate).
 * The directed cases that count replays, breaks and slots pin the exact-key store's rules (a template's slot is
 * replayed for the frame that fills it, and a template that mispredicts an outcome adds a break): they run with
 * templates off ({@link exactKeys}); the properties comparing outputs run with them on.
 */
let templates = true;

/** `f` run with templates off. */
function exactKeys<T>(f: () => T): T {
  templates = false;
  try {
    return f();
  } finally {
    templates = true;
  }
}

/** An OvsConntrack seen through ConntrackEngine alone (another engine): no hints, no peer states for connEnd. */
class PlainEngine implements ConntrackEngine {
  readonly inner = new OvsConntrack();
  execute(frame: Uint8Array, length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): void {
    this.inner.execute(frame, length, d, req, res, now);
  }
}

/**
 * OvsConntrack's table and states with ovn-trace's original tuple (TraceConntrack, ct-trace.ts): `tupleWritten` always
 * false, and only a call that DNATs the packet writes any of the tuple — `hasOriginal`, the destination address and
 * port — the rest left as the result held it, as CtResult.tupleWritten allows an engine. No hints: the replay compares
 * each call whole. A call whose outcome changed (its connection gone, made again without translation) leaves the
 * tuple it was handed, not the recorded one.
 */
class TraceTuple implements ConntrackEngine {
  readonly inner = new OvsConntrack();
  private readonly src = new Uint8Array(16);
  private readonly dst = new Uint8Array(16);
  execute(frame: Uint8Array, length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): void {
    const has = res.hasOriginal;
    const v6 = res.originalIpv6;
    const proto = res.originalProto;
    const sp = res.originalSrcPort;
    const dp = res.originalDstPort;
    this.src.set(res.originalSrc);
    this.dst.set(res.originalDst);
    this.inner.execute(frame, length, d, req, res, now);
    // process_one_fast left the tuple as it was handed.
    if (!res.tupleWritten) return;
    res.tupleWritten = false;
    res.originalProto = proto;
    res.originalSrcPort = sp;
    res.originalSrc.set(this.src);
    if ((res.state & CtState.DNAT) !== 0 && res.hasOriginal) return;
    res.hasOriginal = has;
    res.originalIpv6 = v6;
    res.originalDstPort = dp;
    res.originalDst.set(this.dst);
  }
}

/** The junk {@link JunkTuple} writes: no connection's tuple (protocol 0xfe). */
const JUNK_PROTO = 0xfe;

/**
 * A hinted engine that uses all the room HintedConntrackEngine.executeHinted's contract gives it: where a hinted call
 * found its hint's node and left the original tuple unwritten (tupleWritten false), it fills the tuple with junk — the
 * contract says only that the tuple is the connection's, known to the caller, not what the result holds. A caller
 * that reads it or hands it to a call that does (a call in the same zone) without putting it back reads the junk:
 * counted on entry to such a call (`read`), and the outcome differs from the uncached walk's.
 */
class JunkTuple implements HintedConntrackEngine {
  readonly inner = new OvsConntrack();
  /** `fill` false: the same wrapper leaving the tuple as the engine left it (the counts to compare with). */
  constructor(private readonly fill = true) {}
  /** Hinted calls that left their tuple (filled with junk here). */
  left = 0;
  /** Calls in the result's zone handed a junk tuple: a breach of the contract by the caller. */
  read = 0;
  /** Calls in another zone handed a junk tuple (allowed: such a call reads none of it). */
  passed = 0;
  /**
   * Calls in the zone of a call that had just left its tuple: the next step of the replay (hinted) or the walk taken
   * again from that step (execute) — each must have been handed the tuple put back.
   */
  sameZoneHinted = 0;
  sameZoneAgain = 0;
  private lastLeft = false;
  get epoch(): number {
    return this.inner.epoch;
  }
  get foundNode(): number {
    return this.inner.foundNode;
  }
  get foundGen(): number {
    return this.inner.foundGen;
  }
  tcpClosing(node: number, gen: number): number {
    return this.inner.tcpClosing(node, gen);
  }
  private entry(req: CtRequest, res: CtResult, hinted: boolean): void {
    if (this.lastLeft && res.zone === (req.zone & 0xffff)) {
      if (hinted) this.sameZoneHinted++;
      else this.sameZoneAgain++;
    }
    this.lastLeft = false;
    if (res.originalProto !== JUNK_PROTO) return;
    if (res.zone === (req.zone & 0xffff)) this.read++;
    else this.passed++;
  }
  execute(frame: Uint8Array, length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): void {
    this.entry(req, res, false);
    this.inner.execute(frame, length, d, req, res, now);
  }
  executeHinted(frame: Uint8Array, length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number, node: number, gen: number, epoch: number, next?: boolean, fresh?: boolean, keyed?: boolean): void {
    this.entry(req, res, true);
    this.inner.executeHinted(frame, length, d, req, res, now, node, gen, epoch, next, fresh, keyed);
    if (res.tupleWritten || node < 0 || this.inner.foundNode !== node || this.inner.foundGen !== gen) return;
    this.left++;
    this.lastLeft = true;
    if (!this.fill) return;
    res.hasOriginal = true;
    res.originalIpv6 = false;
    res.originalProto = JUNK_PROTO;
    res.originalSrcPort = 0xdead;
    res.originalDstPort = 0xbeef;
    res.originalSrc.fill(0xfe);
    res.originalDst.fill(0xfd);
  }
}

describe('connection replay: a call that found the node its step names', () => {
  it("never reads the tuple a hinted call left unwritten without putting the recorded one back (an engine filling it with junk)", () => {
    // The replay puts a step's recorded tuple back only before a call in the same zone and before the walk is taken
    // again from that step; otherwise the junk stays, unread. Outputs, drops and table equal the uncached walk's.
    const junk = { left: 0, read: 0, passed: 0, sameZoneHinted: 0, sameZoneAgain: 0, connBreaks: 0 };
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (seq) => {
        const j = new JunkTuple();
        const s = compare(seq, undefined, false, undefined, false, false, j);
        // The replay's decisions do not depend on the junk either: the same walks replayed and stopped.
        const clean = compare(seq, undefined, false, undefined, false, false, new JunkTuple(false));
        expect([s.connHits, s.connBreaks, s.connEntries]).toEqual([clean.connHits, clean.connBreaks, clean.connEntries]);
        junk.left += j.left;
        junk.read += j.read;
        junk.passed += j.passed;
        junk.sameZoneHinted += j.sameZoneHinted;
        junk.sameZoneAgain += j.sameZoneAgain;
        junk.connBreaks += s.connBreaks;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    console.log(`conn-replay property, junk in left tuples: ${Math.ceil(RUNS / 2)} runs, seed ${SEED}: ${junk.left} tuples left, ${junk.passed} passed to a call in another zone, ${junk.read} to one in the same zone; followed in their zone by the replay's next call ${junk.sameZoneHinted}, by the walk taken again ${junk.sameZoneAgain}; ${junk.connBreaks} stopped at a call`);
    expect(junk.read).toBe(0);
    expect(junk.left).toBeGreaterThan(RUNS);
    expect(junk.passed).toBeGreaterThan(RUNS / 2);
    expect(junk.sameZoneHinted).toBeGreaterThan(0);
    expect(junk.sameZoneAgain).toBeGreaterThan(0);
  }, 180_000);


  it('takes the walk again from the tuple a call without hints left, not the recorded one (an engine writing the tuple as ovn-trace does)', () => {
    // TraceTuple: no hints, so no call's tuple is the recorded one but by the compare; a call whose outcome changed
    // (a DNATed connection flushed, expired or closed, the segment now new or invalid, its tuple the one it was
    // handed: none) is the walk taken again's input as it is. Putting the recorded tuple back there (as after a
    // hinted call that found its node) hands the walk the recorded DNAT's ct_nw_dst and ct_tp_dst, which the
    // ingress flows read (to p2 with another MAC).
    // fast-check's shrunk case: a connection DNATed, flushed, made again without translation under the same key by
    // a SYN that the ACKs' walk (no flow reads the flags) replays.
    const once = compare([{ op: 'connect', sport: 40001, nat: 1 }, { op: 'flush' }, { op: 'connect', sport: 40001, nat: 0 }], undefined, false, undefined, false, false, new TraceTuple());
    expect(once.connBreaks).toBeGreaterThan(0);
    let connHits = 0;
    let connBreaks = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (seq) => {
        const s = compare(seq, undefined, false, undefined, false, false, new TraceTuple());
        connHits += s.connHits;
        connBreaks += s.connBreaks;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    console.log(`conn-replay property, an engine without hints writing the tuple as ovn-trace does: ${Math.ceil(RUNS / 2)} runs, seed ${SEED}: ${connHits} walks replayed whole, ${connBreaks} stopped at a call`);
    expect(connHits).toBeGreaterThan(RUNS / 2);
    expect(connBreaks).toBeGreaterThan(0);
  }, 180_000);

  it('gives the same outputs, drops and conntrack table as the uncached walk when marks and labels change and connections are remade under one key', () => {
    let connHits = 0;
    let connBreaks = 0;
    // The walks' calls on the executor's frame generation (executeWords' `gen`) checked against the packet the engine
    // kept — walks taken again after a replay's break included (a write that did not move the generation throws).
    const promises = checkPromises();
    const promised0 = promises.promised;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (seq) => {
        const s = compare(seq);
        connHits += s.connHits;
        connBreaks += s.connBreaks;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const promised = promises.promised - promised0;
    console.log(`conn-replay property: ${RUNS} runs, seed ${SEED} (VIPPATH_REPLAY_SEED / VIPPATH_REPLAY_RUNS): ${connHits} walks replayed whole, ${connBreaks} stopped at a call, ${promised} calls on the frame generation`);
    expect(promises.stale).toBe(0);
    expect(promised).toBeGreaterThan(RUNS);
    expect(connHits).toBeGreaterThan(RUNS);
    expect(connBreaks).toBeGreaterThan(RUNS / 10);
  }, 180_000);

  it('takes the walk again when a commit changed the mark or one word of the label since it was recorded', () => {
    // Flows.labels: the client's TTL-64 ACKs copy the mark and each label word (their low bytes) into the source MAC;
    // a segment with another TTL (its own key) commits a write to one of them on the connection in between. The
    // replayed call finds the very node its step names, so only the compare of the mark and the four label words can
    // tell the outcome changed: leaving one out replays the recorded MAC. Each write directed, then any of them in
    // any order (cleared again, on connections remade, from the server's side too).
    const ack = (ttl: number, times: number): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x10, ttl, nat: 0 }, times });
    for (const [ttl] of LABEL_WRITES) {
      // The handshake's ACKs record the walk; the first write's breaks it, the second's (word 1's other bits, or the
      // clear after the mark) break the walk recorded again after it.
      const second = ttl === 21 ? 22 : ttl === 25 ? 26 : ttl;
      const s = exactKeys(() => compare([{ op: 'connect', sport: 40000, nat: 1 }, ack(ttl, 1), ack(64, 3), ack(second, 1), ack(64, 3)], undefined, false, undefined, false, false, undefined, { labels: true }));
      // And every other ACK replayed whole — those after a label write on a walk recorded with the label not 0
      // (CONN_RQ_LABEL: its words compared, not only the live label's zero).
      expect({ ttl, breaks: s.connBreaks, hits: s.connHits }).toEqual({ ttl, breaks: second === ttl ? 1 : 2, hits: second === ttl ? 6 : 4 });
    }
    // stepOf's steps end most connections within a few (flushes, expiries, flags at random: RST, SYN, FIN), before a
    // walk recorded on one meets a later write: ACKs and PSH|ACKs of live connections as well make that meeting
    // common; and fast-check's default size keeps arrays short, whatever maxLength (with stepOf's steps at that size,
    // 200 runs of seed 20261211 meet no change of label words 1 to 3).
    const ttls = [64, 64, 64, ...LABEL_WRITES.map(([ttl]) => ttl)];
    const calm = fc.record({
      op: fc.constant('send' as const),
      pkt: fc.record({ kind: fc.constantFrom<Pkt['kind']>('client', 'client', 'client', 'server'), sport, flags: fc.constantFrom(0x10, 0x18), ttl: fc.constantFrom(...ttls), nat: fc.nat(2) }),
      times: fc.constantFrom(1, 2, 4),
    });
    let connHits = 0;
    let connBreaks = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 1, arbitrary: fc.record({ op: fc.constant('connect' as const), sport, nat: fc.nat(2) }) }, { weight: 6, arbitrary: calm }, { weight: 1, arbitrary: stepOf(ttls) }), { minLength: 10, maxLength: 40, size: 'medium' }), (seq) => {
        const s = compare(seq, undefined, false, undefined, false, false, undefined, { labels: true });
        connHits += s.connHits;
        connBreaks += s.connBreaks;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`conn-replay property, commits of the mark and each label word: ${RUNS} runs, seed ${SEED}: ${connHits} walks replayed whole, ${connBreaks} stopped at a call`);
    expect(connHits).toBeGreaterThan(RUNS);
    expect(connBreaks).toBeGreaterThan(RUNS / 20);
  }, 180_000);

  it('holds where zones track a connection apart: one flushed alone, segments dropped between the ingress and the egress zone, two calls in the egress zone', () => {
    // One connection (one client port). A zone flushed alone is remade by the next segment through it, whichever side
    // sent it: its connection's original direction may then be the other zone's reply direction. TTL 3 segments are
    // dropped after their ingress call (the egress zone never sees them: the zones' peer states differ), TTL 66
    // segments make their ingress call without NAT and two egress calls, reading the egress zone's tuple after them
    // (southbound's Flows). A replay that put a left tuple back before a call other than the next in its zone hands
    // the egress zone's second call the ingress zone's tuple here (fast-check's runs find that about once in 40).
    let connHits = 0;
    let connBreaks = 0;
    fc.assert(
      fc.property(fc.array(stepOf([66, 66, 64, 3], [2, 3], fc.constant(40000)), { minLength: 1, maxLength: 40 }), (seq) => {
        const s = compare(seq, undefined, false, undefined, false, false, undefined, { egressPair: true, dropsTtl3: true });
        connHits += s.connHits;
        connBreaks += s.connBreaks;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`conn-replay property, zones apart: ${RUNS} runs, seed ${SEED}: ${connHits} walks replayed whole, ${connBreaks} stopped at a call`);
    expect(connHits).toBeGreaterThan(RUNS / 2);
  }, 180_000);

  it('holds with sequence numbers at and across 2^31 and 2^32 (an ISN of 2^32 − 1: the next number is 0)', () => {
    // Real stacks pick ISNs over all 32 bits (RFC 6528), so a replay's words and conntrack's windows meet numbers
    // past V8's small integers and their wrap; the cached walk must see them as the uncached one does.
    const isn = fc.constantFrom(1000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff);
    let connHits = 0;
    let wrapped = 0;
    fc.assert(
      fc.property(fc.tuple(isn, isn), fc.array(step, { minLength: 1, maxLength: 30 }), (isns, seq) => {
        const s = compare(seq, undefined, false, isns);
        connHits += s.connHits;
        if (isns[0] === 0xffffffff || isns[1] === 0xffffffff) wrapped += s.connHits;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    console.log(`conn-replay property, 32-bit ISNs: ${Math.ceil(RUNS / 2)} runs, seed ${SEED}: ${connHits} walks replayed whole, ${wrapped} in runs whose next number wraps to 0`);
    expect(connHits).toBeGreaterThan(RUNS / 2);
    expect(wrapped).toBeGreaterThan(0);
  }, 180_000);

  it('keys walks with the TCP flags where a flow reads them, and the property holds there too', () => {
    let connHits = 0;
    let connBreaks = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (seq) => {
        const s = compare(seq, undefined, true);
        connHits += s.connHits;
        connBreaks += s.connBreaks;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    console.log(`conn-replay property, flows reading tcp.flags: ${Math.ceil(RUNS / 2)} runs, seed ${SEED}: ${connHits} walks replayed whole, ${connBreaks} stopped at a call`);
    expect(connHits).toBeGreaterThan(RUNS / 2);
    // A client's PSH|ACK after its ACKs: routed by its flags (to p2, its ACKs to p3), never by the ACKs' walk.
    const psh = compare(
      [
        { op: 'connect', sport: 40000, nat: 1 },
        { op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x18, ttl: 64, nat: 0 }, times: 4 },
      ],
      undefined,
      true,
    );
    // The handshake's ACKs and the PSH|ACKs, four of each: the third recorded, the fourth replayed.
    expect(psh.connHits).toBe(2);
  });

  it('does not record a walk that rewrites a header word other than the Ethernet addresses before a call', () => {
    // The TTL, DSCP and ECN (words connHeadersKept compares: the replay writes only the Ethernet addresses) set
    // between the ingress and the egress call: the TTL-64 frames' walk is kept and replayed (the handshake's last
    // three ACKs and three more), the others' never. A compare that missed the TTL's word keeps that walk (10 hits,
    // 2 walks), the DSCP's or the ECN's alike; so does a walk whose segments the executor judged free of such
    // writes (connOpsOf) when one was there — a decrement, a move or an exchange either way round (TTL 14–17). The
    // counts tell, and since storeFrame writes these words into the frame (session 34) the outputs too: a replay
    // would send the frame's own TTL and TOS.
    const client = (ttl: number, times: number): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x10, ttl, nat: 0 }, times });
    const s = compare([{ op: 'connect', sport: 40000, nat: 0 }, client(4, 4), client(64, 3), client(4, 3), client(11, 4), client(12, 4), client(14, 4), client(15, 4), client(16, 4), client(17, 4)], undefined, false, undefined, true);
    expect(s).toMatchObject({ connHits: 5, connEntries: 1 });
  });

  it('outputs the header words a walk writes after or between its calls: no walk is replayed over them', () => {
    // The addresses and ports the frame holds (storeFrame writes them): a walk kept over a write to one, with
    // connHeadersKept missing its word, would be replayed with the frame's own bytes there — outputs the uncached
    // walk never gives. Each TTL picks a word (southbound's rewritesHeaders); frames of both directions, on
    // connections translated or not, whose walks would otherwise be kept (connect's ACKs and the TTL-64 ones are).
    const ttls = [33, 34, 35, 36, 37];
    const seq: Step[] = [];
    for (const nat of [0, 1]) {
      seq.push({ op: 'connect', sport: 40000 + nat, nat });
      for (const ttl of [...ttls, 64]) {
        seq.push({ op: 'send', pkt: { kind: 'client', sport: 40000 + nat, flags: 0x10, ttl, nat: 0 }, times: 3 });
        seq.push({ op: 'send', pkt: { kind: 'server', sport: 40000 + nat, flags: 0x10, ttl, nat }, times: 3 });
      }
    }
    const s = compare(seq, undefined, false, undefined, false, true);
    // Replayed: the TTL-64 frames' and the handshakes' walks (the others are not kept).
    expect(s.connHits).toBeGreaterThan(0);
    let connHits = 0;
    let connBreaks = 0;
    fc.assert(
      fc.property(fc.array(stepOf([64, 64, 9, 8, ...ttls]), { minLength: 1, maxLength: 40 }), (steps) => {
        const r = compare(steps, undefined, false, undefined, false, true);
        connHits += r.connHits;
        connBreaks += r.connBreaks;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    console.log(`conn-replay property, flows writing addresses and ports after or between the calls: ${Math.ceil(RUNS / 2)} runs, seed ${SEED}: ${connHits} walks replayed whole, ${connBreaks} stopped at a call`);
    expect(connHits).toBeGreaterThan(RUNS / 2);
  }, 180_000);

  it('has no walk whose flows write a ct word before a call: such flows are skipped, as OVN refuses them', () => {
    // connPre: the replay hands a call either all-zero ct words or the previous call's outcome. In OVN's flows
    // nothing else reaches a call — ct_state and the ct_nw_*/ct_tp_* fields are read-only (their OVS fields are not
    // writable: "Field ct_state is not modifiable", checked with ovn-trace 23.03 by test/lflow-accept.test.ts),
    // ct_mark and ct_label writable only inside ct_commit's braces (logical-fields.c WR_CT_COMMIT), and a ct_commit
    // is itself a call whose ct words a chassis clears after it (hideCt). The parser enforces those scopes (it did
    // not before session 25, when this test ran such flows through the replay): each write, between two calls or
    // before the first, is skipped with a type refusal, and the rest of the switch compiles.
    const writes = ['ct_state = 0x2a', 'ct_mark = 9', 'ct_label[0..31] = 9', 'ct_label[32..63] = 9', 'ct_label[64..95] = 9', 'ct_label[96..127] = 9', 'ct_nw_dst = 10.9.9.9', 'ct_tp_dst = 99'];
    const { flows, add } = flowList();
    writes.forEach((a, i) => add('ingress', 0, 10, `ip4 && ip.ttl == ${70 + i}`, `${a}; next;`));
    add('ingress', 0, 0, '1', 'next;');
    add('ingress', 1, 0, '1', 'ct_next;');
    add('ingress', 2, 10, 'ct.new', 'ct_commit { ct_mark = 9; ct_label[0..31] = 9; }; next;');
    writes.forEach((a, i) => add('ingress', 2, 5, `ct.est && ip4 && ip.ttl == ${40 + i}`, `${a}; next;`));
    add('ingress', 2, 0, '1', 'next;');
    add('ingress', 3, 0, '1', 'outport = "p1"; output;');
    const ex = new LflowExecutor(oneSwitch(flows, [vif('p1', 2, '00:00:00:00:00:01 10.0.1.1')]), 'ls', { chassis: 'node1' });
    expect(ex.skipped.map((x) => `${x.flow.table} ${x.flow.actions} ${x.part} ${x.refusal}`).sort()).toEqual([0, 2].flatMap((t) => writes.map((a) => `${t} ${a}; next; actions ${LflowRefusal.TYPE}`)).sort());
  });

  it('replays a connection\'s frames of any flags on one walk where no flow reads them, and takes it again when conntrack closes the connection', () => {
    // Without the flags in the key the handshake's first ACK records the walk and every later segment of the
    // connection, whatever its flags, replays it while conntrack's outcome is the recorded one: a FIN (the state
    // stays established), a RST (the connection closes: the segments after it find it closed or gone — the replay
    // stops, or its outcome is the recorded one), a SYN remaking the connection under the closed tuple and the ACKs
    // after it. The server's RST closes the first connection under the client's walk, which its direction never
    // ended (so the walk is still held): the client's ACKs after it, and those of the connection remade with another
    // translation, replay it against the closed or remade connection.
    const client = (flags: number, times = 1): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl: 64, nat: 0 }, times });
    const server = (flags: number, nat = 1): Step => ({ op: 'send', pkt: { kind: 'server', sport: 40000, flags, ttl: 64, nat }, times: 1 });
    const s = compare([
      { op: 'connect', sport: 40000, nat: 1 },
      client(0x18, 2),
      server(0x19),
      client(0x10),
      server(0x04),
      client(0x10, 2),
      { op: 'wait', dt: 1000 },
      { op: 'connect', sport: 40000, nat: 2 },
      client(0x10, 3),
      client(0x11),
      client(0x10),
      client(0x14),
      client(0x10, 2),
      server(0x10, 2),
    ]);
    expect(s.connHits).toBeGreaterThan(8);
    expect(s.connBreaks).toBeGreaterThan(0);
  });

  it('frees a walk at its direction\'s last segment by conntrack\'s peer states — its FIN sent, the other side\'s FIN sent and acknowledged — not at the first replay after its FIN', () =>
    exactKeys(() => {
    // No flow reads the flags: one walk per direction. The handshake's ACKs (connect) leave the client's walk held.
    // The client's FIN|ACK, the server still open, is not the client's last segment: the walk stays (marked as
    // ending) and serves its ACKs. The server's FIN|PSH|ACK records a walk marked as ending (the segments are the
    // SYN|ACK's: no flow reads the flags); it acknowledges the client's FIN, so its copy, replayed, frees it — and the
    // client's next ACK, acknowledging the server's FIN, its last segment, frees the client's.
    const client = (flags: number, times = 1): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl: 64, nat: 0 }, times });
    const server = (flags: number, times = 1): Step => ({ op: 'send', pkt: { kind: 'server', sport: 40000, flags, ttl: 64, nat: 1 }, times });
    const steps: Step[] = [{ op: 'connect', sport: 40000, nat: 1 }];
    const after = (...more: Step[]): ReturnType<typeof compare> => compare(steps.concat(more));
    expect(after()).toMatchObject({ connHits: 2, connEntries: 1 });
    steps.push(client(0x11));
    expect(after()).toMatchObject({ connHits: 3, connEntries: 1 });
    steps.push(client(0x10, 2));
    expect(after()).toMatchObject({ connHits: 5, connEntries: 1 });
    steps.push(server(0x19));
    expect(after()).toMatchObject({ connHits: 5, connEntries: 2 });
    steps.push(server(0x19));
    expect(after()).toMatchObject({ connHits: 6, connEntries: 1 });
    steps.push(client(0x10));
    expect(after()).toMatchObject({ connHits: 7, connEntries: 0 });
    // A RST replayed is its direction's last segment (conntrack puts both peers past FIN_WAIT_2); an ACK after it
    // records the walk again.
    expect(compare([{ op: 'connect', sport: 40000, nat: 1 }, client(0x04)])).toMatchObject({ connHits: 3, connEntries: 0 });
    expect(compare([{ op: 'connect', sport: 40000, nat: 1 }, client(0x04), client(0x10, 2)])).toMatchObject({ connHits: 4, connEntries: 1 });
    }));

  it('puts the tuple left by the call a replay stops at back before the walk taken again reads it', () => {
    // A connection without translation; the client's TTL-65 frames (no second ingress call) record a walk of two
    // calls: the ingress zone's, then the egress zone's, after which a flow reads ct_tp_dst. A TTL-13 frame commits
    // ct_mark = 7 in the egress zone only. The next TTL-65 frame replays the ingress call as recorded and stops at the
    // egress call: the very node its step names (hinted: the tuple left unwritten, junk here), another mark. The walk
    // taken again from there reads the egress call's ct_tp_dst — the recorded one, put back, as the uncached walk's.
    const client = (ttl: number, times: number): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x10, ttl, nat: 0 }, times });
    const j = new JunkTuple();
    const s = compare([{ op: 'connect', sport: 40000, nat: 0 }, client(65, 3), client(13, 1), client(65, 2)], undefined, false, undefined, false, false, j);
    expect({ breaks: s.connBreaks, read: j.read }).toEqual({ breaks: 1, read: 0 });
    expect(j.left).toBeGreaterThan(0);
  });

  it('asks conntrack\'s peer states of the walk\'s last call that named a node, not its first', () =>
    exactKeys(() => {
    // The client's walk names the ingress zone's node (p1's zone) and then the egress zone's (p2's). The server's
    // FIN|PSH|ACK with TTL 3 is dropped after its ingress call: p2's zone tracks it, p1's never does. The client's
    // FIN|ACK before it marked the walk as ending; the client's next ACK acknowledges the server's FIN — in p2's zone
    // the client's last segment (closing 2: the walk freed, the next ACK records it again), in p1's zone only its FIN
    // sent (closing 1: kept, the next ACK replayed). connEnd asks the last (its doc: the peer states of the walk's last
    // call that named a node).
    const client = (flags: number, times = 1): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl: 64, nat: 0 }, times });
    const serverFin: Step = { op: 'send', pkt: { kind: 'server', sport: 40000, flags: 0x19, ttl: 3, nat: 0 }, times: 1 };
    const steps: Step[] = [{ op: 'connect', sport: 40000, nat: 0 }, client(0x11), serverFin];
    const run = (...more: Step[]): ReturnType<typeof compare> => compare(steps.concat(more), undefined, false, undefined, false, false, undefined, { dropsTtl3: true });
    const before = run();
    expect(before).toMatchObject({ connHits: 3, connEntries: 1 });
    expect(run(client(0x10))).toMatchObject({ connHits: 4, connEntries: 0 });
    expect(run(client(0x10), client(0x10))).toMatchObject({ connHits: 4, connEntries: 1 });
    }));

  it('puts a left tuple back only before the next call: not before a later call in the zone of the call between', () => {
    // p2's zone flushed after the handshake and its connection made again by the server's ACK: there its original
    // direction is the server's (80 → 40000), in p1's zone the client's (40000 → 80). The client's TTL-66 segments
    // record a walk of three calls: p1's zone without NAT (hinted: its tuple left), p2's (its hint refused while p1's
    // connection is process_one_fast's: the tuple written), p2's again (process_one_fast: the tuple it is handed kept,
    // and read after it: ct_tp_dst). That third call translates, so process_one_fast keeps no connection for the next
    // frame, whose first call takes its hint. Putting p1's tuple back before the third call (its zone the second's)
    // hands it the client's tuple: ct_tp_dst 80, another source MAC than the uncached walk's.
    const s = compare(
      [
        { op: 'connect', sport: 40000, nat: 0 },
        { op: 'flush', zone: 3 },
        { op: 'send', pkt: { kind: 'server', sport: 40000, flags: 0x10, ttl: 64, nat: 0 }, times: 1 },
        { op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x10, ttl: 66, nat: 0 }, times: 4 },
      ],
      undefined, false, undefined, false, false, undefined, { egressPair: true },
    );
    // The handshake's ACKs and the TTL-66 ACKs, four of each: the first new to the segment cache, the second records,
    // the last two replay.
    expect(s).toMatchObject({ connHits: 4, connBreaks: 0 });
  });

  it('keeps a walk marked as ending while its direction has not sent FIN on the connection now under its key (remade after a RST)', () => {
    // The client's FIN|ACK marks its walk as ending (the server has not closed: closing 1); the server's RST closes the
    // connection; a new handshake remakes it under the same tuple and translation (the SYN, TTL 7, keyed apart from
    // the walk's TTL 64). The client's ACKs then replay the marked walk against the new connection, whose client has
    // sent no FIN (closing 0): each is replayed and the walk stays — freeing it at closing 0 would leave the second
    // ACK to a full run that records it again (3 replays of 4).
    const client = (flags: number, times = 1, ttl = 64): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl, nat: 0 }, times });
    const server = (flags: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: 40000, flags, ttl: 64, nat: 1 }, times: 1 });
    const steps: Step[] = [{ op: 'connect', sport: 40000, nat: 1 }, client(0x11), server(0x04), client(0x02, 1, 7), server(0x12)];
    const before = compare(steps);
    const after = compare(steps.concat(client(0x10, 4)));
    expect({ hits: after.connHits - before.connHits, entries: after.connEntries, breaks: after.connBreaks }).toEqual({ hits: 4, entries: before.connEntries, breaks: 0 });
  });

  it('frees a walk at its direction\'s FIN or RST, or at the replay after one it was recorded from, when the engine gives no peer states', () =>
    exactKeys(() => {
    // Another engine (no HintedConntrackEngine: tcpClosing unknown, -1): the client's FIN|ACK, replayed, frees the
    // client's walk at once (with the peer states it stays: the server has not closed), and its next ACKs record it
    // again — the first records, the other two replay. The server's FIN|PSH|ACK records a walk marked as ending; the
    // server's next segment, an ACK, replays it and frees it (with the peer states: kept, the client not closed).
    const client = (flags: number, times = 1): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl: 64, nat: 0 }, times });
    const server = (flags: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: 40000, flags, ttl: 64, nat: 1 }, times: 1 });
    const c: Step = { op: 'connect', sport: 40000, nat: 1 };
    const plain = (steps: Step[]) => compare(steps, undefined, false, undefined, false, false, new PlainEngine());
    expect(plain([c])).toMatchObject({ connHits: 2, connEntries: 1 });
    expect([plain([c, client(0x11)]), compare([c, client(0x11)])]).toMatchObject([{ connHits: 3, connEntries: 0 }, { connHits: 3, connEntries: 1 }]);
    expect(plain([c, client(0x11), client(0x10, 3)])).toMatchObject({ connHits: 5, connEntries: 1 });
    expect([plain([c, server(0x19), server(0x10)]), compare([c, server(0x19), server(0x10)])]).toMatchObject([{ connHits: 3, connEntries: 1 }, { connHits: 3, connEntries: 2 }]);
    }));

  it('keeps the server\'s walk recorded from its response with FIN over its ACK of a retransmitted request, for its ACK of the client\'s FIN (http-lossy)', () => {
    // bench/workloads.mjs LOSSY_MIX: the server answers with FIN (its walk recorded then, its direction ending);
    // the client sends its request again; the server's ACK of the copy replays the walk, and — not being the
    // server's last segment (the client has not sent FIN) — leaves it held; the client's FIN|ACK replays and frees
    // the client's walk; the server's ACK of it, its last segment, replays and frees the server's. Freeing the
    // server's walk at the ACK of the copy instead leaves that last ACK to a full run that records a walk no frame
    // comes for (connHits 6, connEntries 1).
    const client = (flags: number): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl: 64, nat: 0 }, times: 1 });
    const server = (flags: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: 40000, flags, ttl: 64, nat: 1 }, times: 1 });
    const s = compare([{ op: 'connect', sport: 40000, nat: 1 }, client(0x18), server(0x19), client(0x18), server(0x10), client(0x11), server(0x10)]);
    // Replayed: two of the handshake's four ACKs, the request, its copy, the server's two ACKs, the client's FIN.
    expect(s).toMatchObject({ connHits: 7, connBreaks: 0, connEntries: 0 });
  });

  it('takes the walk again from a second call whose outcome changed, the first call\'s translation as it left the frame', () => {
    // The client's ACKs are translated to 10.0.0.70 by the first call (p1's zone) and tracked by the second (p3's
    // zone). The server's segment with TTL 9 commits ct_mark = 5 on p3's connection only: the client's next ACKs
    // replay the first call as recorded and stop at the second, and the walk taken again starts from the frame as the
    // first call left it (the translated destination, both checksums) — which the replay kept between the calls.
    const client = { kind: 'client', sport: 40000, flags: 0x10, ttl: 64, nat: 0 } as const;
    const s = compare([
      { op: 'connect', sport: 40000, nat: 1 },
      { op: 'send', pkt: client, times: 4 },
      { op: 'send', pkt: { kind: 'server', sport: 40000, flags: 0x10, ttl: 9, nat: 1 }, times: 1 },
      { op: 'send', pkt: client, times: 2 },
    ]);
    expect(s.connBreaks).toBeGreaterThan(0);
  });

  it('records the walk of a SYN|ACK (its direction\'s first established segment) while such walks are replayed, and stops where none is (MegaflowTable.synAckCredit)', () =>
    exactKeys(() => {
    // Two handshakes: the first one's client walk, replayed by its ACKs, pays the credit (a table starts with none);
    // the second's SYN|ACK records the server's walk, and the server's two segments after it both replay it —
    // recorded from the first of them instead, one would. Outputs, drops and the conntrack table as the uncached
    // walk's (compare).
    const server = (flags: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: 40001, flags, ttl: 64, nat: 1 }, times: 1 });
    const two = [{ op: 'connect', sport: 40000, nat: 1 }, { op: 'connect', sport: 40001, nat: 1 }] as const;
    const handshakes = compare([...two]);
    expect(compare([...two, server(0x18), server(0x19)])).toMatchObject({ connHits: handshakes.connHits + 2, connBreaks: 0, connEntries: handshakes.connEntries });

    // Handshakes of one ACK each and no server segment (full-cold): no walk replayed, no credit, no SYN|ACK recorded —
    // each keeps its client walk only. Then handshakes answered by two segments: the first one's server walk,
    // recorded from its first segment, replays for the second and pays the credit; every SYN|ACK after is recorded
    // (both segments replayed: 1 + 2 × 99).
    const executor = (): LflowExecutor => {
      const x = new LflowExecutor(southbound(), 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
      x.enableMegaflows({ templates });
      return x;
    };
    let now = 1000;
    const connect = (ex: LflowExecutor, sp: number, answers: number): void => {
      const send = (p: Pkt): void => {
        const f = frameOf(p);
        const buf = new Uint8Array(f.length + 8);
        buf.set(f);
        ex.runFrame(buf, f.length, p.kind === 'client' ? 'p1' : SERVERS[p.nat]!.port, now++);
      };
      send({ kind: 'client', sport: sp, flags: 0x02, ttl: 64, nat: 0 });
      send({ kind: 'server', sport: sp, flags: 0x12, ttl: 64, nat: 0 });
      send({ kind: 'client', sport: sp, flags: 0x10, ttl: 64, nat: 0 });
      for (let i = 0; i < answers; i++) send({ kind: 'server', sport: sp, flags: 0x18, ttl: 64, nat: 0 });
    };
    // Walks kept: those held and those given up for another key's (a bucket's ways full).
    const kept = (ex: LflowExecutor): number => ex.megaflowStats().connEntries + ex.megaflowStats().connEvictions;
    const cold = executor();
    for (let i = 0; i < 100; i++) connect(cold, 20000 + i, 0);
    const spent = kept(cold);
    for (let i = 100; i < 600; i++) connect(cold, 20000 + i, 0);
    expect(kept(cold)).toBe(spent + 500);
    const before = cold.megaflowStats().connHits;
    for (let i = 0; i < 100; i++) connect(cold, 30000 + i, 2);
    expect(cold.megaflowStats().connHits - before).toBe(1 + 2 * 99);
    // Handshakes answered from the start: each walk's first replay pays back twice what a SYN|ACK takes, so every
    // SYN|ACK is recorded (both server segments replayed).
    const warm = executor();
    for (let i = 0; i < 100; i++) connect(warm, 20000 + i, 2);
    const at = warm.megaflowStats().connHits;
    for (let i = 100; i < 200; i++) connect(warm, 20000 + i, 2);
    expect(warm.megaflowStats().connHits - at).toBe(200);
    // Only a walk's first replay pays: one connection's 300 segments replayed, then 100 handshakes of one ACK each —
    // two SYN|ACKs recorded (its walk's one payment), not 100.
    const one = executor();
    connect(one, 20000, 300);
    const k = kept(one);
    for (let i = 1; i <= 100; i++) connect(one, 20000 + i, 0);
    expect(kept(one)).toBe(k + 100 + 2);
    }));

  it("pays no SYN|ACK credit for the replay of a slot a template just filled: that frame stands for the walk's recording", () => {
    // Handshakes of one ACK each (full-cold's): the first connection's ACK records its walk and makes a template;
    // nearly every later one's ACK fills a slot from it and replays it at once (connFilling) — no walk's first replay
    // of a frame after its recording, so no credit, and no SYN|ACK's walk recorded. Paid at those replays, each fill
    // would leave 2 more.
    const ex = new LflowExecutor(southbound(), 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
    ex.enableMegaflows({ templates: true });
    let now = 1000;
    const send = (p: Pkt): void => {
      const f = frameOf(p);
      const buf = new Uint8Array(f.length + 8);
      buf.set(f);
      ex.runFrame(buf, f.length, p.kind === 'client' ? 'p1' : SERVERS[p.nat]!.port, now++);
    };
    for (let i = 0; i < 100; i++) {
      send({ kind: 'client', sport: 20000 + i, flags: 0x02, ttl: 64, nat: 0 });
      send({ kind: 'server', sport: 20000 + i, flags: 0x12, ttl: 64, nat: 0 });
      send({ kind: 'client', sport: 20000 + i, flags: 0x10, ttl: 64, nat: 0 });
    }
    const s = ex.megaflowStats();
    // The table's credit, read from the executor's table (MegaflowTable.synAckCredit: no API shows it).
    const credit = (ex as unknown as { mega: { synAckCredit: number } }).mega.synAckCredit;
    expect({ filled: s.templateHits > 90, credit }).toEqual({ filled: true, credit: 0 });
  });

  it("keeps a slot a template filled from its direction's last segment for the next frame: no end check at the fill's replay", () => {
    // Two connections interleaved so that no SYN|ACK is recorded (no walk replayed before either SYN|ACK: no credit).
    // A's server FIN|PSH|ACK, after A's client FIN, records A's server walk (a template). B's, after B's client FIN,
    // fills B's server slot from it: the frame stands for B's recording, which keeps a walk marked as ending for its
    // next frame — asked at the fill's replay, conntrack's peer states (both FINs sent, the client's acknowledged) would
    // free it at once.
    const ex = new LflowExecutor(southbound(), 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
    ex.enableMegaflows({ templates: true });
    let now = 1000;
    // The client's segments to the VIP, the server's from 10.0.0.70 (the SYN's TTL picks that backend).
    const send = (kind: Pkt['kind'], sport: number, flags: number, ttl = 64): void => {
      const f = frameOf({ kind, sport, flags, ttl, nat: kind === 'client' ? 0 : 1 });
      const buf = new Uint8Array(f.length + 8);
      buf.set(f);
      ex.runFrame(buf, f.length, kind === 'client' ? 'p1' : SERVERS[1]!.port, now++);
    };
    const open = (sport: number): void => {
      send('client', sport, 0x02, SERVERS[1]!.synTtl);
      send('server', sport, 0x12);
    };
    open(40000);
    send('client', 40000, 0x10);
    open(40001);
    send('client', 40001, 0x10);
    send('client', 40000, 0x11);
    send('server', 40000, 0x19);
    send('client', 40001, 0x11);
    const before = ex.megaflowStats();
    send('server', 40001, 0x19);
    const after = ex.megaflowStats();
    expect({ filled: after.templateHits - before.templateHits, kept: after.connEntries - before.connEntries }).toEqual({ filled: 1, kept: 1 });
  });

  it('replays the walk of its own key where another key\'s walk holds the first way with the same hash bits', () => {
    // A store of 2^20 slots: its index ways keep the hash's upper 11 bits, its first 256 buckets are chosen by the low
    // 8. Two client ports whose keys agree in those 19 bits (the key's hash as connLookup makes it from the packed key's
    // words: p1's tunnel key with the flags (0: no flow reads them), the addresses, the ports, and the protocol-TTL word
    // XOR the source MAC's low word): the second key's lookup meets the first key's
    // way first, compares the key and looks at the bucket's other ways. (A walk of another connection taken for this
    // one would be caught anyway — its calls' outcomes name another node and differ — keys of one connection that
    // differ only in words the hash leaves out are the property's.)
    const hash = (sport: number): number => mixHash(mixHash(mixHash(mixHash(2, 0x0a000101), 0x0a000002), (sport << 16) | 80), ((6 << 24) | (64 << 16)) ^ 1);
    const seen = new Map<number, number>();
    let pair: [number, number] | undefined;
    for (let p = 1024; p < 65536 && !pair; p++) {
      const h = hash(p);
      const bits = (h >>> 21) * 256 + (h & 255);
      const q = seen.get(bits);
      if (q !== undefined) pair = [q, p];
      else seen.set(bits, p);
    }
    const [x, y] = pair!;
    const ack = (sport: number): Step => ({ op: 'send', pkt: { kind: 'client', sport, flags: 0x10, ttl: 64, nat: 0 }, times: 4 });
    const s = compare([{ op: 'connect', sport: x, nat: 1 }, { op: 'connect', sport: y, nat: 2 }, ack(x), ack(y), ack(x), ack(y)], 1 << 20);
    // Each connection's ACKs (no flow reads the flags: keys without them, walks recorded at once): the handshake's
    // first takes the segment cache's slow path (its segments new: no walk is kept), the second records, the last two
    // and all eight sent after it are replayed.
    expect(s.connHits).toBe(20);
  });

  it('takes the walk again when the connection found in the step\'s slot was made again with another translation', () => {
    // The same client connection translated to 10.0.0.70, then remade (the first expired and swept: its slot freed,
    // the generation moved; or the table flushed: slots reused under the same generation, the epoch moved) and
    // translated to 10.0.0.71 — in the same slot, so that the replay's first call finds the very node its step names,
    // with the same state bits (established, DNATed) and mark: only the translated address tells them apart.
    for (const gap of [{ op: 'wait', dt: 90_000_000 }, { op: 'flush' }] as const) {
      const s = compare([{ op: 'connect', sport: 40000, nat: 1 }, gap, { op: 'connect', sport: 40000, nat: 2 }]);
      expect(s.connBreaks).toBeGreaterThan(0);
    }
  });

  it('takes the walk again from a third call whose outcome changed, with each earlier call\'s translation put back in the frame (restoreNatFields)', () =>
    exactKeys(() => {
    // Flows.twoDnats: the client's ACKs are translated to 10.0.0.70 in p1's zone (call 0), routed by that address to
    // p3 with MAC 03, tracked in p3's zone (call 1, ct_next) and translated again to 10.0.0.71 in the DNAT zone (call
    // 2). The DNAT zone flushed and its connection made again to 10.0.0.72:8080 (by an ACK with TTL 50: its own key)
    // leaves calls 0 and 1 as recorded and changes call 2: the walk taken again answers call 0 with the frame as that
    // call left it, which restoreNatFields writes back over the live call 2's bytes. The translated header is read
    // back from the frame (reloadTranslated): a frame still holding 10.0.0.72 routes by it (to p2), one still holding
    // port 8080 makes no call 2 (its flow asks for port 80) — other bytes than the uncached walk's either way.
    // restoreNatFields writes no checksum: the frame's are the live call 2's throughout, and the last answer writes
    // call 2's addresses and ports back over the earlier answers' raw writes, so the outputs' checksums are checked
    // here with the addresses (the compare is of whole frames).
    const ack = (ttl: number, times: number): Step => ({ op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x10, ttl, nat: 0 }, times });
    const open: Step[] = [
      { op: 'send', pkt: { kind: 'client', sport: 40000, flags: 0x02, ttl: 7, nat: 0 }, times: 1 },
      { op: 'send', pkt: { kind: 'server', sport: 40000, flags: 0x12, ttl: 64, nat: 1 }, times: 1 },
    ];
    const run = (...more: Step[]): ReturnType<typeof compare> => compare(open.concat(ack(64, 4), more), undefined, false, undefined, false, false, undefined, { twoDnats: true });
    // The ACKs: the first new to the segment cache, the second records its walk of three calls, the last two replay.
    expect(run()).toMatchObject({ connHits: 2, connBreaks: 0 });
    // The first ACK after the TTL-50 one stops at call 2 (its walk removed), the next records the walk again.
    expect(run({ op: 'flush', zone: DNAT_ZONE }, ack(50, 1), ack(64, 2))).toMatchObject({ connHits: 2, connBreaks: 1 });

    // Handshakes, ACKs with TTL 64 or 50, server segments and flushes of the DNAT zone, p3's or both tables, in any
    // order.
    const ev = fc.oneof(
      { weight: 1, arbitrary: fc.constant<Step[]>(open.concat(ack(64, 1))) },
      { weight: 6, arbitrary: fc.record({ ttl: fc.constantFrom(64, 64, 50), times: fc.constantFrom(1, 2, 4), flags: fc.constantFrom(0x10, 0x10, 0x18, 0x11) }).map(({ ttl, times, flags }): Step[] => [{ op: 'send', pkt: { kind: 'client', sport: 40000, flags, ttl, nat: 0 }, times }]) },
      { weight: 1, arbitrary: fc.constantFrom(0x10, 0x18).map((flags): Step[] => [{ op: 'send', pkt: { kind: 'server', sport: 40000, flags, ttl: 64, nat: 1 }, times: 1 }]) },
      { weight: 3, arbitrary: fc.constantFrom<Step[]>([{ op: 'flush', zone: DNAT_ZONE }], [{ op: 'flush', zone: DNAT_ZONE }], [{ op: 'flush', zone: 4 }], [{ op: 'flush' }]) },
    );
    let connHits = 0;
    let connBreaks = 0;
    fc.assert(
      fc.property(fc.array(ev, { minLength: 1, maxLength: 30 }), (evs) => {
        const s = compare(open.concat(ack(64, 2), evs.flat()), undefined, false, undefined, false, false, undefined, { twoDnats: true });
        connHits += s.connHits;
        connBreaks += s.connBreaks;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    console.log(`conn-replay property, two translations of one segment: ${Math.ceil(RUNS / 2)} runs, seed ${SEED}: ${connHits} walks replayed whole, ${connBreaks} stopped at a call`);
    expect(connHits).toBeGreaterThan(RUNS / 2);
    expect(connBreaks).toBeGreaterThan(RUNS / 10);
    }));
});

/**
 * Runs the steps through two cached executors, one filling new connections' slots from other connections' walks
 * (ConnTemplate) and one recording each connection's own, each with its own OvsConntrack; fails at the first packet
 * whose outputs, drops or conntrack table differ. Returns the frames replayed from template-filled slots and the
 * replays' breaks of each.
 */
function compareTemplates(seq: readonly Step[], more: Flows = {}, macs: boolean | 'ips' = false, maxEntries?: number): { filled: number; breaks: number; exactBreaks: number; flushes: number } {
  const sb = southbound(false, false, false, false, more);
  const cta = new OvsConntrack();
  const ctb = new OvsConntrack();
  const a = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: cta, wordsOut: false });
  const b = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: ctb, wordsOut: false });
  a.enableMegaflows({ templates: true, maxEntries });
  b.enableMegaflows({ templates: false });
  const unwatch = watchTemplateChoice();
  try {
    play(seq, [a, cta], [b, ctb], undefined, macs);
  } finally {
    unwatch();
  }
  const s = a.megaflowStats();
  return { filled: s.templateHits, breaks: s.connBreaks, exactBreaks: b.megaflowStats().connBreaks, flushes: s.flushes };
}

// The template connFromTemplate fills from, against the general form's (watchTemplateChoice).
interface TmplLike {
  readonly key: Int32Array;
  readonly hash: number;
  readonly chain: TmplLike | undefined;
}
interface ShapeLike {
  readonly map: Map<number, TmplLike>;
  readonly m1: number;
  readonly m2: number;
  readonly m3: number;
  readonly m6: number;
  readonly m7: number;
  readonly m8: number;
}
interface TableLike {
  readonly templates: ShapeLike[];
}
interface FillerLike {
  readonly connKey: Int32Array;
  readonly tmplShapeHint: Int8Array;
  /** Per port key's low bits, its last fill's template: where connLookup reads the template a fill took. */
  readonly tmplLast: (TmplLike | undefined)[];
  connFromTemplate(t: TableLike, store: unknown, h: number): number;
}
/** Fills and the fills whose template was the last one its port's fills took (the executor's first candidate). */
const templateChoices = { fills: 0, repeated: 0 };

/**
 * The general form of connFromTemplate's choice: the shapes from the port's hinted one on, in each the template whose
 * key is the frame's key under the shape's masks — every template of every chain scanned, no hash.
 */
function generalTemplate(x: FillerLike, t: TableLike): TmplLike | undefined {
  const k = x.connKey;
  const shapes = t.templates;
  const n = shapes.length;
  let s0 = x.tmplShapeHint[k[0]! & (x.tmplShapeHint.length - 1)]!;
  if (s0 >= n) s0 = 0;
  for (let i = 0; i < n; i++) {
    const sh = shapes[(s0 + i) % n]!;
    const want = [k[0]!, k[1]! & sh.m1, k[2]! & sh.m2, k[3]! & sh.m3, k[4]!, k[5]!, k[6]! & sh.m6, k[7]! & sh.m7, k[8]! & sh.m8];
    for (const head of sh.map.values()) for (let c: TmplLike | undefined = head; c !== undefined; c = c.chain) if (want.every((v, j) => c!.key[j] === v)) return c;
  }
  return undefined;
}

/**
 * Wraps LflowExecutor's connFromTemplate: each fill's template must be the general form's (generalTemplate, taken
 * before the call); a call that fills nothing must have found none, or one the call dropped (its learned state moved).
 * Returns the unwrap.
 */
function watchTemplateChoice(): () => void {
  const proto = LflowExecutor.prototype as unknown as FillerLike;
  const fill = proto.connFromTemplate;
  const last = new Map<unknown, TmplLike>();
  proto.connFromTemplate = function (this: FillerLike, t: TableLike, store: unknown, h: number): number {
    const want = generalTemplate(this, t);
    const r = fill.call(this, t, store, h);
    if (r >= 0) {
      templateChoices.fills++;
      const port = this.connKey[0]! & (this.tmplShapeHint.length - 1);
      const took = this.tmplLast[this.connKey[0]! & (this.tmplLast.length - 1)];
      if (last.get(port) === took) templateChoices.repeated++;
      expect(took, 'the template a fill took').toBe(want);
      last.set(port, took!);
    } else if (r === -1 && want !== undefined) {
      let held = false;
      for (let c = t.templates.find((sh) => sh.map.get(want.hash) !== undefined)?.map.get(want.hash); c !== undefined; c = c.chain) if (c === want) held = true;
      expect(held, 'a template the general form finds, not taken and still held').toBe(false);
    }
    return r;
  };
  return () => {
    proto.connFromTemplate = fill;
  };
}

/**
 * OvsConntrack without hints, whose outcome a test moves after the call while `move` is set: a replay compares such a
 * call's outcome whole (replayConn: no node named), each word of it.
 */
class Moved implements ConntrackEngine {
  readonly inner = new OvsConntrack();
  move: ((res: CtResult, d: DecodedFrame) => void) | undefined = undefined;
  execute(frame: Uint8Array, length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): void {
    this.inner.execute(frame, length, d, req, res, now);
    this.move?.(res, d);
  }
}

describe('connection replay: a call compared whole', () => {
  it("takes the walk again where one word of a call's outcome moved, the call naming no node (an engine without hints)", () => {
    // Each word replayConn compares, moved alone in the outcome of every call of one replayed ACK: the replay must
    // stop there. The addresses in both bytes that end their big-endian word (read32's, the DataView's), the label's
    // words against a label recorded as 0 (CONN_RQ_LABEL clear).
    const moves: [string, (r: CtResult, d: DecodedFrame) => void][] = [
      ['state', (r) => (r.state ^= CtState.RPL)],
      ['mark', (r) => (r.mark ^= 1)],
      ...[0, 1, 2, 3].map((i): [string, (r: CtResult) => void] => [`label word ${i}`, (r) => (r.label[i] ^= 1 << (i * 8))]),
      ['zone', (r) => (r.zone ^= 1)],
      ['rewritten', (r) => (r.rewritten = !r.rewritten)],
      ['tuple written', (r) => (r.tupleWritten = !r.tupleWritten)],
      ['original protocol', (r) => (r.originalProto ^= 1)],
      ['original source port', (r) => (r.originalSrcPort ^= 1)],
      ['original destination port', (r) => (r.originalDstPort ^= 1)],
      ['original source, first byte', (r) => (r.originalSrc[0] ^= 1)],
      ['original source, fourth byte', (r) => (r.originalSrc[3] ^= 1)],
      ['original destination, first byte', (r) => (r.originalDst[0] ^= 1)],
      ['original destination, fourth byte', (r) => (r.originalDst[3] ^= 1)],
      ['translated source', (_, d) => (d.ipSrc = (d.ipSrc ^ 1) >>> 0)],
      ['translated destination', (_, d) => (d.ipDst = (d.ipDst ^ 1) >>> 0)],
      ['translated source port', (_, d) => (d.srcPort ^= 1)],
      ['translated destination port', (_, d) => (d.dstPort ^= 1)],
    ];
    for (const [what, move] of moves) {
      const eng = new Moved();
      const ex = new LflowExecutor(southbound(), 'ls', { chassis: 'node1', ct: eng, wordsOut: false });
      ex.enableMegaflows({ templates: false });
      let now = 1000;
      const send = (p: Pkt, times = 1): void => {
        for (let t = 0; t < times; t++) view(ex, eng.inner, frameOf(p), p.kind === 'client' ? 'p1' : SERVERS[1]!.port, (now += 1));
      };
      // A connection DNATed to 10.0.0.70: its ACKs' walk recorded, then replayed.
      send({ kind: 'client', sport: 40000, flags: 0x02, ttl: SERVERS[1]!.synTtl, nat: 0 });
      send({ kind: 'server', sport: 40000, flags: 0x12, ttl: 64, nat: 1 });
      const ack: Pkt = { kind: 'client', sport: 40000, flags: 0x10, ttl: 64, nat: 0 };
      send(ack, 4);
      const before = ex.megaflowStats();
      expect({ what, hits: before.connHits > 0, breaks: before.connBreaks }).toEqual({ what, hits: true, breaks: 0 });
      eng.move = move;
      send(ack);
      eng.move = undefined;
      expect({ what, breaks: ex.megaflowStats().connBreaks }).toEqual({ what, breaks: 1 });
    }
  });
});

describe('connection replay: walks filled from other connections\' walks (ConnTemplate)', () => {
  const ports = fc.constantFrom(40000, 40001, 40002, 40003);
  it('gives the outputs, drops and conntrack table of a walk recorded for the connection itself', () => {
    let filled = 0;
    let breaks = 0;
    // More handshakes than stepOf makes, mostly to one backend: connections whose walks a template may fill.
    const connect = fc.record({ op: fc.constant('connect' as const), sport: ports, nat: fc.constantFrom(1, 1, 2) });
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 2, arbitrary: connect }, { weight: 3, arbitrary: step }), { minLength: 1, maxLength: 40 }), fc.boolean(), (seq, readsPorts) => {
        const s = compareTemplates(seq, { readsPorts });
        filled += s.filled;
        breaks += s.breaks - s.exactBreaks;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(
      `conn-replay property, walk templates: ${RUNS} runs, seed ${SEED}: ${filled} frames replayed from a slot a template filled, ${breaks} more breaks than recording each connection's walk; ${templateChoices.fills} fills checked against the general lookup, ${templateChoices.repeated} of them from the template of their port's last fill`,
    );
    expect(filled).toBeGreaterThan(RUNS / 2);
    expect(templateChoices.repeated).toBeGreaterThan(0);
    expect(templateChoices.repeated).toBeLessThan(templateChoices.fills);
  }, 180_000);

  it("takes no template of a table's shapes let go of: the segment table full, its templates dropped with it (a port's last fill's template among them)", () => {
    let fills = 0;
    let flushes = 0;
    const connect = fc.record({ op: fc.constant('connect' as const), sport: ports, nat: fc.constantFrom(1, 1, 2) });
    fc.assert(
      fc.property(fc.array(connect, { minLength: 2, maxLength: 24 }), fc.constantFrom(6, 10, 16), fc.boolean(), (seq, maxEntries, readsPorts) => {
        const s = compareTemplates(seq, { readsPorts }, false, maxEntries);
        fills += s.filled;
        flushes += s.flushes;
      }),
      { numRuns: RUNS / 4, seed: SEED },
    );
    console.log(`conn-replay property, templates over table flushes: ${RUNS / 4} runs, seed ${SEED}: ${fills} frames replayed from a template-filled slot, ${flushes} flushes`);
    expect(fills).toBeGreaterThan(0);
    expect(flushes).toBeGreaterThan(0);
  }, 180_000);

  it("fills a second connection from the first one's walk, tells connections apart by a port a flow reads, and takes the walk again where a call's outcome is not the template's", () => {
    const c = (sp: number, nat = 1): Step => ({ op: 'connect', sport: sp, nat });
    // The second connection's ACKs: its first fills a slot from the first connection's client walk, replayed.
    expect(compareTemplates([c(40000), c(40003)])).toMatchObject({ filled: 1, breaks: 0 });
    // Port 40001 reads another flow (tcp.src), the servers' segments to 40002 another (tcp.dst): neither takes 40000's walk
    // (their outputs differ from it: compareTemplates fails where one would).
    compareTemplates([c(40000), c(40001), c(40002), c(40003)], { readsPorts: true });
    // The servers' segments too: 40000's walk recorded from its first segment (the table's SYN|ACK credit not yet
    // paid), then other connections' SYN|ACKs and segments.
    const srv = (sp: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: sp, flags: 0x18, ttl: 64, nat: 1 }, times: 2 });
    compareTemplates([c(40000), srv(40000), c(40002), srv(40002), c(40003), srv(40003)], { readsPorts: true });
    compareTemplates([c(40003), c(40002), c(40001), c(40000)], { readsPorts: true });
    // Another backend (nat 2): the template's translated destination is not the call's — a break, the walk taken
    // again; the next ACK records the connection's own walk.
    expect(compareTemplates([c(40000), c(40003, 2)])).toMatchObject({ filled: 0, breaks: 1 });
    // The template that broke is dropped: the port's next connection is not filled from it (its fill was the port's
    // last), whichever template the walk recorded since makes (watchTemplateChoice compares each fill's).
    compareTemplates([c(40000), c(40003, 2), c(40001), c(40002)]);
    compareTemplates([c(40000), c(40003), c(40001, 2), c(40002), c(40000, 2), c(40003)], { readsPorts: true });
  });

  it("replays a template-filled slot's calls on the hinted path: its own node looked up, not declined to execute", () => {
    // A slot a template filled names the template's connection's nodes, of another epoch: each call of its first
    // replay looks its own node up (OvsConntrack's lookedTcp4) and takes the hinted path with it. The outcome is the
    // same when it declines to execute instead (which a drifted hash in lookedTcp4 would make it do), so only counts
    // tell: a call with another epoch's hint may go to execute only where calls with a hint of this epoch do too (a
    // zone the hinted path declines for its own reasons), and some must not.
    const c = (sp: number): Step => ({ op: 'connect', sport: sp, nat: 1 });
    type Fn = (...a: unknown[]) => void;
    const proto = OvsConntrack.prototype as unknown as Record<'execute' | 'executeHinted', Fn>;
    const { execute, executeHinted } = proto;
    // executeHinted(frame, length, d, req, res, now, node, gen, epoch, next, fresh); the engine's epoch is private.
    let call: { zone: number; other: boolean } | undefined;
    const declinedSame = new Set<number>();
    const declinedOther: number[] = [];
    let other = 0;
    proto.executeHinted = function (this: unknown, ...a: unknown[]) {
      const epochNow = (this as { epochNow: number }).epochNow;
      call = { zone: (a[3] as CtRequest).zone, other: a[8] !== epochNow };
      if (call.other) other++;
      try {
        executeHinted.apply(this, a);
      } finally {
        call = undefined;
      }
    };
    proto.execute = function (this: unknown, ...a: unknown[]) {
      if (call !== undefined) {
        if (call.other) declinedOther.push(call.zone);
        else declinedSame.add(call.zone);
      }
      execute.apply(this, a);
    };
    try {
      expect(compareTemplates([c(40000), c(40003), c(40002)])).toMatchObject({ filled: 3, breaks: 0 });
    } finally {
      proto.execute = execute;
      proto.executeHinted = executeHinted;
    }
    expect(other).toBeGreaterThan(declinedOther.length);
    for (const zone of declinedOther) expect(declinedSame.has(zone), `zone ${zone}`).toBe(true);
  });

  it("fills a connection from another client's walk where no segment reads or writes the client's MAC, and keeps an address a segment writes exact", () => {
    const c = (sp: number): Step => ({ op: 'connect', sport: sp, nat: 1 });
    const srv = (sp: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: sp, flags: 0x18, ttl: 64, nat: 1 }, times: 2 });
    // Each client its own MAC: the second connection's first ACK fills from the first's walk and leaves with its
    // own source address; the server's segments to it, filled likewise, with its own destination address.
    expect(compareTemplates([c(40000), c(40003)], {}, true)).toMatchObject({ filled: 1, breaks: 0 });
    expect(compareTemplates([c(40000), srv(40000), srv(40000), c(40003), srv(40003)], {}, true)).toMatchObject({ filled: 2, breaks: 0 });
    // The client's walk writes eth.src: its template keeps the source address exact — another client's frame is not
    // filled from it (where it was, the frame would leave with its own address, not the written one).
    expect(compareTemplates([c(40000), c(40003)], { writesSrc: true }, true)).toMatchObject({ filled: 0, breaks: 0 });
    // The same client MAC: filled, and the written address is the walk's.
    expect(compareTemplates([c(40000), c(40003)], { writesSrc: true })).toMatchObject({ filled: 1, breaks: 0 });
  });

  it("fills a connection from another client address's walk: each call's tuple and translated fields taken from the frame where they were the template frame's own", () => {
    const c = (sp: number): Step => ({ op: 'connect', sport: sp, nat: 1 });
    const srv = (sp: number): Step => ({ op: 'send', pkt: { kind: 'server', sport: sp, flags: 0x18, ttl: 64, nat: 1 }, times: 2 });
    // Each client its own MAC and IPv4 address, none of which a flow reads: the second connection's first ACK fills
    // from the first's walk, whose calls' outcomes name its own client's address (the original tuple's source, the
    // translated source) — filled from the frame, they compare equal to the live calls' (no break); where one was
    // left as the template's, the call's outcome is not the slot's and the walk is taken again (a break).
    expect(compareTemplates([c(40000), c(40003)], {}, 'ips')).toMatchObject({ filled: 1, breaks: 0 });
    // The servers' segments to it: the client's address is their destination (the tuple's destination, the
    // translated destination).
    expect(compareTemplates([c(40000), srv(40000), srv(40000), c(40003), srv(40003)], {}, 'ips')).toMatchObject({ filled: 2, breaks: 0 });
  });

  it('makes no template of a walk that reads a ct tuple word: a port no segment reads, filled from the frame, would pass the compare', () => {
    // The client's walks read ct_tp_dst (the original tuple's port, the frame's own tcp.dst), no segment tcp.dst:
    // a template keyed without the port would serve the connection to port 81, whose call's tuple, filled from
    // its frame, compares equal — and the walk of port 80's flow would be replayed over it.
    const c = (sp: number, dport?: number): Step => ({ op: 'connect', sport: sp, nat: 0, dport });
    expect(compareTemplates([c(40000), c(40003, 81)], { readsTupleDst: true })).toMatchObject({ filled: 0, breaks: 0 });
    expect(compareTemplates([c(40000, 81), c(40003)], { readsTupleDst: true })).toMatchObject({ filled: 0, breaks: 0 });
    // Without that flow, the same connections share the walk.
    expect(compareTemplates([c(40000), c(40003, 81)])).toMatchObject({ filled: 1, breaks: 0 });
  });
});
