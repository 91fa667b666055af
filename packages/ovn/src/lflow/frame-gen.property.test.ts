/**
 * The executor's frame generation (WordsConntrackEngine.executeWords' `gen`): a conntrack call given the generation
 * the engine's previous call was given takes that call's packet key without comparing the packet. Flows here write
 * header fields between ct() calls of one zone — `ip4.src`, `ip4.dst`, `tcp.src`, `tcp.dst` / `udp.dst` (frame bytes
 * conntrack reads: the generation must move) and `eth.src` (bytes it does not read: it need not) — and the packets
 * come in one buffer, one after another, both directions, TCP and UDP. Two executors on the same flows: one on
 * OvsConntrack's words entry with the generation, the other through a plain `execute` (every call compares the
 * packet with the kept one); outputs, their words and the conntrack tables must be the same after every packet, and
 * every promised call is checked against the packet the engine kept (packets.test-helpers.ts checkPromises: a write
 * that did not move the generation throws). Cache on and off. Corners counted and asserted: calls on the promise,
 * calls right after each kind of write.
 * Seeds: fast-check prints a failure's seed; VIPPATH_FRAME_GEN_SEED replays, VIPPATH_FRAME_GEN_RUNS sets the runs
 * (default 60).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { checkPromises } from '../ct/packets.test-helpers.js';
import { LflowExecutor } from './executor.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';

const RUNS = Number(process.env.VIPPATH_FRAME_GEN_RUNS ?? 60);
const SEED = process.env.VIPPATH_FRAME_GEN_SEED !== undefined ? Number(process.env.VIPPATH_FRAME_GEN_SEED) : undefined;

/** The write before a packet's second ct() in its ingress zone, chosen by its destination port (80: none). */
const WRITES: Record<number, string> = {
  81: 'ip4.dst = 10.0.0.9;',
  82: 'ip4.src = 10.0.1.9;',
  83: 'tcp.src = 5555;',
  84: 'tcp.dst = 8080;',
  85: 'udp.dst = 5353;',
  86: 'eth.src = 00:00:00:00:00:33;',
};

function southbound() {
  const { flows, add } = flowList();
  add('ingress', 0, 0, '1', 'ct_next;');
  for (const [port, write] of Object.entries(WRITES)) {
    const l4 = write.startsWith('udp') ? 'udp' : 'tcp';
    add('ingress', 1, 100, `${l4}.dst == ${port}`, `${write} ct_next;`);
  }
  add('ingress', 1, 0, '1', 'ct_next;');
  add('ingress', 2, 10, 'ct.new', 'ct_commit; next;');
  add('ingress', 2, 0, '1', 'next;');
  add('ingress', 3, 10, 'inport == "p1"', 'outport = "p2"; output;');
  add('ingress', 3, 0, '1', 'outport = "p1"; output;');
  add('egress', 0, 0, '1', 'ct_next;');
  add('egress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('egress', 1, 0, '1', 'next;');
  add('egress', 2, 0, '1', 'output;');
  return oneSwitch(flows, [vif('p1', 2, '00:00:00:00:00:01 10.0.1.1'), vif('p2', 3, '00:00:00:00:00:02 10.0.0.2')]);
}

const pkt = fc.record({
  fromP2: fc.boolean(),
  udp: fc.boolean(),
  sport: fc.integer({ min: 1000, max: 1002 }),
  dport: fc.integer({ min: 80, max: 86 }),
  flags: fc.constantFrom(0x02, 0x10, 0x12, 0x18),
  dt: fc.integer({ min: 0, max: 2000 }),
});
type Pkt = typeof pkt extends fc.Arbitrary<infer T> ? T : never;

function frameOf(p: Pkt): Uint8Array {
  const a = { mac: '00:00:00:00:00:01', ip: '10.0.1.1' };
  const b = { mac: '00:00:00:00:00:02', ip: '10.0.0.2' };
  const [s, d] = p.fromP2 ? [b, a] : [a, b];
  const [sp, dp] = p.fromP2 ? [p.dport, p.sport] : [p.sport, p.dport];
  const l4 = p.udp ? { udp: { srcPort: sp, dstPort: dp } } : { tcp: { srcPort: sp, dstPort: dp, seq: 1, ack: p.flags & 0x10 ? 1 : 0, flags: p.flags } };
  return buildFrame({ src: s.mac, dst: d.mac, ipv4: { src: s.ip, dst: d.ip }, ...l4 });
}

const seen = { packets: 0, promised: 0, written: 0, l2Only: 0 };

function check(seq: Pkt[], cache: boolean): void {
  const sb = southbound();
  const words = new OvsConntrack();
  const plainCt = new OvsConntrack();
  const plain = { execute: (...a: Parameters<OvsConntrack['execute']>): void => plainCt.execute(...a) };
  const exA = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: words, wordsOut: true });
  const exB = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: plain, wordsOut: true });
  if (cache) {
    exA.enableMegaflows({});
    exB.enableMegaflows({});
  }
  // One buffer per side for every packet, as a capture's cursor hands them: the engine sees the same frame object.
  const bufA = new Uint8Array(2048);
  const bufB = new Uint8Array(2048);
  let now = 1000;
  for (let i = 0; i < seq.length; i++) {
    const p = seq[i]!;
    now += p.dt;
    const f = frameOf(p);
    bufA.set(f);
    bufB.set(f);
    const view = (ex: LflowExecutor, buf: Uint8Array): string => {
      const r = ex.runFrame(buf, f.length, p.fromP2 ? 'p2' : 'p1', now);
      return JSON.stringify({ outs: r.outputs.map((o) => `${o.port}:${Buffer.from(o.frame.subarray(0, o.length)).toString('hex')}:${[...o.words].join(',')}`), drops: r.drops });
    };
    const x = view(exA, bufA);
    const y = view(exB, bufB);
    if (x !== y) expect({ packet: i, p, out: JSON.parse(x) }).toEqual({ packet: i, p, out: JSON.parse(y) });
    const dx = words.formatDump(now, { stats: true });
    const dy = plainCt.formatDump(now, { stats: true });
    if (dx !== dy) expect({ packet: i, p, dump: dx }).toEqual({ packet: i, p, dump: dy });
    expect([...words.counters]).toEqual([...plainCt.counters]);
    seen.packets++;
    const write = !p.fromP2 ? WRITES[p.dport] : undefined;
    if (write !== undefined && (write.startsWith('udp') ? p.udp : write.startsWith('tcp') ? !p.udp : true)) {
      if (write.startsWith('eth')) seen.l2Only++;
      else seen.written++;
    }
  }
}

describe("the executor's frame generation (executeWords' gen)", () => {
  it('gives the outputs and conntrack tables that calls comparing the packet give, with header writes between calls', () => {
    const promises = checkPromises();
    const promised0 = promises.promised;
    const fresh0 = promises.fresh;
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 5, maxLength: 40, size: 'max' }), fc.boolean(), (seq, cache) => check(seq, cache)),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    seen.promised = promises.promised - promised0;
    const fresh = promises.fresh - fresh0;
    console.log(`frame generation property: ${RUNS} runs: ${JSON.stringify(seen)}, ${fresh} first calls said fresh`);
    expect(promises.stale).toBe(0);
    // A walk's first call says `fresh` (its key extracted, no compare with the kept packet), and only the first: a
    // later call of the packet is on the kept one.
    expect(promises.freshKept).toBe(0);
    expect(fresh).toBeGreaterThan(seen.packets / 4);
    expect(seen.promised).toBeGreaterThan(seen.packets);
    expect(seen.written).toBeGreaterThan(RUNS);
    expect(seen.l2Only).toBeGreaterThan(RUNS / 10);
  }, 180_000);
});
