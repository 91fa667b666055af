/**
 * A cached segment's ct call skips writing the words' header into the frame when the segment began with the two in
 * step and wrote no header word (executor.ts `exec`'s `synced`, `callCt`'s `syncSkip`). Northd's switch flows seldom
 * write a header field before a ct call, so the megaflow property hardly reaches the case where the skip would be
 * wrong. Here the flows are generated to do just that: tables that rewrite Ethernet and IPv4 addresses and ports
 * (constant loads, moves, exchanges) or only registers, between ct calls that fork (`ct_next`), commit in place
 * (`ct_commit`) or translate (`ct_dnat(IP)`, whose NAT reads the header back into the words), before and after an
 * egress copy, and for each port of a group (a copy's egress walk, then the parent's words again). A cached and an uncached executor on one chassis, each with its own OvsConntrack, run the same packets:
 * outputs (ports, bytes), drops and the conntrack table must be equal after every packet. Treating a header write
 * as not moving the frame out of step (headerWord false) fails here.
 *
 * Seeds: 20261202 unless VIPPATH_SYNC_SEED gives one (`random`: a new one, printed); VIPPATH_SYNC_RUNS (default 150).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { DropReason, LflowExecutor } from './executor.js';
import { rowsOf } from './switch.test-helpers.js';
import type { LogicalFlow, SouthboundState } from './types.js';

const SEED_ENV = process.env.VIPPATH_SYNC_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261202;
const RUNS = Number(process.env.VIPPATH_SYNC_RUNS ?? 150);

/** Writes to the packet's header (each a constant load, a move or an exchange) and to registers only. */
const WRITES = [
  'eth.src = 00:00:00:00:00:aa;',
  'eth.dst = 00:00:00:00:00:bb;',
  'eth.dst <-> eth.src;',
  'ip4.src = 10.0.0.50;',
  'ip4.dst = 10.0.0.60;',
  'ip4.src = ip4.dst;',
  'ip4.src <-> ip4.dst;',
  'tcp.dst = 8080;',
  'tcp.src = tcp.dst;',
  'reg0 = 7;',
  'reg1[0..15] = tcp.src;',
] as const;
/** How a table ends: the next table directly, or through a ct call. */
const ENDS = ['next;', 'ct_next;', 'ct_commit { ct_mark.blocked = 1; }; next;', 'ct_dnat(10.0.0.70);', 'ct_commit; next;'] as const;

interface TableGen {
  /** Indices into WRITES. */
  writes: number[];
  end: number;
  /** A second flow, matching one TCP destination port, with its own writes and end. */
  alt: { port: number; writes: number[]; end: number } | undefined;
  /** The last ingress table outputs to a group of two ports (each copy's egress walk, then back to the parent's words). */
  flood: boolean;
  /** The last ingress table goes on after its output: maybe a write, then a ct call on the ingress words. */
  tail: { writes: number[]; end: number } | undefined;
}

/**
 * A table; `ends` the ENDS it may take. Egress tables mostly end without a ct call: an egress walk with one is not
 * cached when the ingress walk goes on after its output, and one without is where a GIVE brings back ingress words
 * that are not what the frame holds (deliver wrote the egress copy's header into it).
 */
const tableGen = (ends: fc.Arbitrary<number>): fc.Arbitrary<TableGen> => fc.record({
  writes: fc.array(fc.nat(WRITES.length - 1), { maxLength: 3 }),
  end: ends,
  alt: fc.option(fc.record({ port: fc.constantFrom(80, 8080, 443), writes: fc.array(fc.nat(WRITES.length - 1), { maxLength: 3 }), end: ends }), { nil: undefined }),
  flood: fc.boolean(),
  tail: fc.option(fc.record({ writes: fc.array(fc.constantFrom(9, 10, 3), { maxLength: 1 }), end: fc.constantFrom(1, 3) }), { nil: undefined }),
});

interface Pkt {
  client: number;
  sport: number;
  dport: number;
  flags: number;
  dt: number;
}
const pkt: fc.Arbitrary<Pkt> = fc.record({
  client: fc.nat(3),
  sport: fc.constantFrom(40000, 40001, 40002),
  dport: fc.constantFrom(80, 8080, 443),
  flags: fc.constantFrom(0x02, 0x10, 0x18, 0x11, 0x04),
  dt: fc.constantFrom(0, 0, 1, 1000, 200_000),
});

function southbound(ingress: TableGen[], egress: TableGen[]): SouthboundState {
  let n = 0;
  const flows: LogicalFlow[] = [];
  const add = (pipeline: 'ingress' | 'egress', table: number, priority: number, match: string, actions: string): void => {
    flows.push({ pipeline, table, stage: `ls_${pipeline === 'ingress' ? 'in' : 'out'}_t${table}`, priority, match, actions, uuid: `${(++n).toString(16).padStart(8, '0')}-0000-0000-0000-000000000000` });
  };
  const body = (writes: number[], end: number, last: string): string => `${writes.map((i) => WRITES[i]).join(' ')} ${last === '' ? ENDS[end] : last}`;
  ingress.forEach((t, i) => {
    const last = i === ingress.length - 1 ? `outport = "${t.flood ? 'group' : 'p2'}"; output;${t.tail ? ` ${body(t.tail.writes, t.tail.end, '')}` : ''}` : '';
    add('ingress', i, 0, '1', body(t.writes, t.end, last));
    if (t.alt) add('ingress', i, 10, `ip4 && tcp.dst == ${t.alt.port}`, body(t.alt.writes, t.alt.end, last));
  });
  egress.forEach((t, i) => {
    const last = i === egress.length - 1 ? 'output;' : '';
    add('egress', i, 0, '1', body(t.writes, t.end, last));
    if (t.alt) add('egress', i, 10, `ip4 && tcp.dst == ${t.alt.port}`, body(t.alt.writes, t.alt.end, last));
  });
  return {
    datapaths: [{ name: 'ls', tunnelKey: 1 }],
    flows: new Map([['ls', flows]]),
    portBindings: [
      { logicalPort: 'p1', type: '', mac: ['00:00:00:00:00:01 10.0.0.1'], portSecurity: [], tunnelKey: 2, chassis: 'node1', options: {}, datapath: 'ls' },
      { logicalPort: 'p2', type: '', mac: ['00:00:00:00:00:02 10.0.0.2'], portSecurity: [], tunnelKey: 3, chassis: 'node1', options: {}, datapath: 'ls' },
      { logicalPort: 'p3', type: '', mac: ['00:00:00:00:00:03 10.0.0.3'], portSecurity: [], tunnelKey: 4, chassis: 'node1', options: {}, datapath: 'ls' },
    ],
    multicastGroups: [{ name: 'group', datapath: 'ls', tunnelKey: 32768, ports: ['p2', 'p3'] }],
    loadBalancers: [],
    fdb: [],
    options: {},
    addressSets: new Map(),
    portGroups: new Map(),
  };
}

function frameOf(p: Pkt): Uint8Array {
  return buildFrame({ src: `52:54:00:00:00:0${p.client}`, dst: '00:00:00:00:00:02', ipv4: { src: `10.0.1.${p.client + 1}`, dst: '10.0.0.2' }, tcp: { srcPort: p.sport, dstPort: p.dport, flags: p.flags, seq: 1000, ack: p.flags & 0x10 ? 5000 : 0 } });
}

/** Datapath `ls` with `flows` (and this file's ports); a cached (megaflows on) and an uncached executor on one chassis, each with its conntrack. */
function cachedAndUncached(flows: LogicalFlow[]): { a: LflowExecutor; b: LflowExecutor; cta: OvsConntrack; ctb: OvsConntrack } {
  const sb = { ...southbound([], []), flows: new Map([['ls', flows]]) };
  const cta = new OvsConntrack();
  const ctb = new OvsConntrack();
  const a = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: cta });
  const b = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: ctb });
  a.enableMegaflows();
  return { a, b, cta, ctb };
}

function view(ex: LflowExecutor, ct: OvsConntrack, frame: Uint8Array, now: number, words = false): string {
  const buf = new Uint8Array(frame.length + 8);
  buf.set(frame);
  const r = ex.runFrame(buf, frame.length, 'p1', now);
  const flags = ex as unknown as { syncSkip: boolean; syncNear: boolean };
  if (flags.syncSkip !== false || flags.syncNear !== false) throw new Error(`a ct sync flag left set after the run: skip ${flags.syncSkip}, near ${flags.syncNear}`);
  return JSON.stringify({
    outputs: r.outputs.map((o) => (words ? [o.port, [...o.frame.subarray(0, o.length)], [...o.words]] : [o.port, [...o.frame.subarray(0, o.length)]])),
    drops: r.drops.map((d) => [d.pipeline, d.table, d.reason]),
    ct: ct.connections(now),
  });
}

describe('cached segments: the frame sync skipped at a ct call', () => {
  it('gives the same outputs, drops and conntrack table as the uncached walk on flows that rewrite headers between ct calls', () => {
    let hits = 0;
    fc.assert(
      fc.property(fc.array(tableGen(fc.nat(ENDS.length - 1)), { minLength: 2, maxLength: 5 }), fc.array(tableGen(fc.constantFrom(0, 0, 0, 1, 3)), { minLength: 1, maxLength: 3 }), fc.array(pkt, { minLength: 1, maxLength: 40 }), (ing, eg, seq) => {
        const sb = southbound(ing, eg);
        const cta = new OvsConntrack();
        const ctb = new OvsConntrack();
        const a = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: cta });
        const b = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: ctb });
        a.enableMegaflows();
        let now = 1000;
        seq.forEach((p, i) => {
          now += p.dt;
          const f = frameOf(p);
          const x = view(a, cta, f, now);
          const y = view(b, ctb, f, now);
          if (x !== y) expect({ packet: i, p, result: x }).toEqual({ packet: i, p, result: y });
        });
        hits += a.megaflowStats().hits;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`sync-skip property: ${RUNS} runs, seed ${SEED} (VIPPATH_SYNC_SEED / VIPPATH_SYNC_RUNS): ${hits} segment hits`);
    expect(hits).toBeGreaterThan(RUNS);
  }, 180_000);

  it('gives each executor its own walk\'s outputs with every executor\'s walks interleaved on other frames (one shadow and one first slot for all)', () => {
    // frame-sync.ts's FRAME_SHADOW: one shadow for every executor, right while each walk writes the header words it
    // will compare before reading them; FIRST_WORDS, every executor's first pool slot, right while each walk writes
    // it whole before reading it (the outputs' words compared too: registers and ct fields a walk of the other
    // stream left there would show in them). Two streams whose frames differ in every header word the flows write — the
    // second's already hold the values the WRITES set (eth.dst bb, ip4.src .50, ip4.dst .60, tcp.dst 8080), so a walk
    // of the first that compared with the shadow the second's left would find its writes already there and leave
    // them out of the frame. Each stream's reference: an uncached executor run alone over it; then two cached and two
    // uncached executors, one per stream, take turns frame by frame, each compared with its stream's reference.
    let hits = 0;
    let rewritten = 0;
    const other = (p: Pkt): Uint8Array =>
      buildFrame({ src: `52:54:00:00:01:0${p.client}`, dst: '00:00:00:00:00:bb', ipv4: { src: '10.0.0.50', dst: '10.0.0.60' }, tcp: { srcPort: p.sport, dstPort: 8080, flags: p.flags, seq: 1000, ack: p.flags & 0x10 ? 5000 : 0 } });
    fc.assert(
      fc.property(fc.array(tableGen(fc.nat(ENDS.length - 1)), { minLength: 2, maxLength: 5 }), fc.array(tableGen(fc.constantFrom(0, 0, 0, 1, 3)), { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(pkt, pkt), { minLength: 1, maxLength: 30 }), (ing, eg, seq) => {
        const sb = southbound(ing, eg);
        const streams = [seq.map(([p]) => frameOf(p)), seq.map(([, q]) => other(q))];
        const times: number[] = [];
        let now = 1000;
        for (const [p] of seq) times.push((now += p.dt));
        const refs = streams.map((frames) => {
          const ct = new OvsConntrack();
          const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct });
          return frames.map((f, i) => view(ex, ct, f, times[i]!, true));
        });
        const runs = [0, 1, 0, 1].map((k, j) => {
          const ct = new OvsConntrack();
          const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct });
          if (j < 2) ex.enableMegaflows();
          return { k, ex, ct, cached: j < 2 };
        });
        for (let i = 0; i < seq.length; i++) {
          for (const { k, ex, ct, cached } of runs) {
            const x = view(ex, ct, streams[k]![i]!, times[i]!, true);
            if (x !== refs[k]![i]) expect({ stream: k, packet: i, cached, result: x }).toEqual({ stream: k, packet: i, cached, result: refs[k]![i] });
          }
          // Outputs of the first stream whose Ethernet destination a write changed: the case a foreign shadow breaks.
          if (refs[0]![i]!.includes('[0,0,0,0,0,187,82,84,0,0,0')) rewritten++;
        }
        hits += runs[0]!.ex.megaflowStats().hits + runs[1]!.ex.megaflowStats().hits;
      }),
      { numRuns: Math.max(1, RUNS >> 1), seed: SEED },
    );
    console.log(`sync-skip interleaved: ${Math.max(1, RUNS >> 1)} runs, seed ${SEED}: ${hits} segment hits, ${rewritten} first-stream outputs with eth.dst written`);
    expect(hits).toBeGreaterThan(RUNS >> 1);
    expect(rewritten).toBeGreaterThan(0);
  }, 180_000);

  it('keeps a TTL decremented before an earlier call through the next call\'s NAT read-back, in the frame as in the words', () => {
    // The TTL decremented before a ct_next that translates nothing: storeFrame writes it into the frame (checksum
    // updated) before the call, as OVS commits dec_ttl before ct(). The next segment begins in step with the frame
    // and writes nothing before its ct_dnat, whose read-back writes the addresses and ports only; the next table
    // tells 63 from 64. The model before session 34 read every header word back from a frame without the decrement
    // (64, to p3); OVS matches 63 and sends TTL 63.
    const { a, b, cta, ctb } = cachedAndUncached(rowsOf([
      [0, 0, '1', 'ip.ttl--; ct_next;'],
      [1, 0, '1', 'ct_dnat(10.0.0.70);'],
      [2, 10, 'ip.ttl == 63', 'outport = "p2"; output;'],
      [2, 0, '1', 'outport = "p3"; output;'],
    ]));
    const ports: string[] = [];
    let now = 1000;
    for (const flags of [0x02, 0x10, 0x18, 0x10, 0x10]) {
      now += 1;
      const f = frameOf({ client: 0, sport: 40000, dport: 80, flags, dt: 1 });
      const x = view(a, cta, f, now);
      expect(x).toBe(view(b, ctb, f, now));
      const outs = (JSON.parse(x) as { outputs: [string, number[]][] }).outputs;
      ports.push(outs.map((o) => o[0]).join());
      // The frame out: TTL 63 (IPv4 header at 14, TTL at 8) and a header checksum that sums to 0xffff.
      for (const [, bytes] of outs) {
        expect(bytes[14 + 8]).toBe(63);
        let sum = 0;
        for (let k = 14; k < 34; k += 2) sum += (bytes[k]! << 8) | bytes[k + 1]!;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        expect(sum).toBe(0xffff);
      }
    }
    expect(ports).toEqual(Array(5).fill('p2'));
    expect(a.megaflowStats().hits).toBeGreaterThan(0);
  });

  it('writes an Ethernet address set before a ct call into the frame, and an IPv4 address set with it, cached as uncached', () => {
    // A segment that began in step and set only Ethernet addresses before its ct call syncs only those (exec's
    // `near`, syncFrame's storeEth); one that set an IPv4 address too syncs the whole header (storeFrame). The call leaves
    // the frame in step, so the next segment's output writes nothing more: what the call's sync wrote is what goes out.
    for (const [sets, ip] of [['eth.dst = 00:00:00:00:00:bb;', '10.0.1.1'], ['eth.dst = 00:00:00:00:00:bb; ip4.src = 10.0.0.50;', '10.0.0.50'], ['eth.src = 00:00:00:00:00:aa; eth.dst = 00:00:00:00:00:bb;', '10.0.1.1']] as const) {
      const { a, b, cta, ctb } = cachedAndUncached(rowsOf([
        [0, 0, '1', `${sets} ct_next;`],
        [1, 0, '1', 'outport = "p2"; output;'],
      ]));
      let now = 1000;
      for (const flags of [0x02, 0x10, 0x18, 0x10, 0x11]) {
        now += 1;
        const f = frameOf({ client: 0, sport: 40000, dport: 80, flags, dt: 1 });
        const x = view(a, cta, f, now);
        expect(x).toBe(view(b, ctb, f, now));
        const outs = (JSON.parse(x) as { outputs: [string, number[]][] }).outputs;
        expect(outs.length).toBe(1);
        const bytes = outs[0]![1];
        expect(bytes.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0xbb]);
        expect(bytes.slice(6, 12)).toEqual(sets.startsWith('eth.src') ? [0, 0, 0, 0, 0, 0xaa] : [0x52, 0x54, 0, 0, 0, 0]);
        expect(bytes.slice(26, 30).join('.')).toBe(ip);
      }
      expect(a.megaflowStats().hits).toBeGreaterThan(0);
    }
  });

  it('stops a walk at ip.ttl-- on TTL 1 or 0 (OVS\'s decrement TTL exception), cached as uncached, and decrements TTL 2', () => {
    // OVS's dec_ttl at TTL <= 1 stops the flow's actions (ofproto-dpif-xlate.c compose_dec_ttl); checked against
    // ovs-vswitchd in test/hairpin-ovs.test.ts. Here: the cached walk, whose key holds the TTL it read, replays the
    // drop for TTL 1 and 0 and the decrement for TTL 2 — a key without the TTL would replay one for the others.
    const { a, b, cta, ctb } = cachedAndUncached(rowsOf([[0, 0, '1', 'ip.ttl--; outport = "p2"; output;']]));
    const seen: string[] = [];
    let now = 1000;
    for (let round = 0; round < 3; round++) {
      for (const ttl of [2, 1, 0]) {
        now += 1;
        // One packet but for its TTL (IPv4 header at 14, TTL at 8), the header checksum made again.
        const f = frameOf({ client: 0, sport: 40000, dport: 80, flags: 0x10, dt: 1 });
        f[14 + 8] = ttl;
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        let sum = 0;
        for (let k = 14; k < 34; k += 2) sum += (f[k]! << 8) | f[k + 1]!;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        f[14 + 10] = (~sum >> 8) & 255;
        f[14 + 11] = ~sum & 255;
        const x = view(a, cta, f, now);
        expect(x).toBe(view(b, ctb, f, now));
        const r = JSON.parse(x) as { outputs: [string, number[]][]; drops: [string, number, number][] };
        seen.push(r.outputs.length ? `${r.outputs[0]![0]} ttl ${r.outputs[0]![1][14 + 8]}` : `drop ${r.drops.map((d) => d.join(' ')).join()}`);
      }
    }
    const want = ['p2 ttl 1', `drop ingress 0 ${DropReason.TTL_EXCEEDED}`, `drop ingress 0 ${DropReason.TTL_EXCEEDED}`];
    expect(seen).toEqual([...want, ...want, ...want]);
    expect(a.megaflowStats().hits).toBeGreaterThan(0);
  });
});
