/**
 * OvsConntrack.tcpClosing (the connection replay's question at a walk's end: how far the sender of a node's direction
 * has closed) against the tracker's peer states read through tcpStates: 0 while the sender is before CLOSING, else 2
 * when the other peer is at FIN_WAIT_2 or later, 1 otherwise; -1 for a node of another generation, a negative node or
 * one past the table. Generated connections (several at once in a small first table, so that the slots in use reach its last ones)
 * exchange ACKs, data, FINs and RSTs from either side in any order; after each segment every connection's two nodes
 * are asked. Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CtTcpState } from './constants.js';
import { F, frame, Runner } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const C = '10.0.0.1';
const V = '10.96.0.10';

/** The answer restated from the two peer states (engine.ts's tcpClosing and tcp.ts's tcpPeerClosing say it so). */
const model = (states: [number, number], dir: number): number => (states[dir]! < CtTcpState.CLOSING ? 0 : states[dir ^ 1]! >= CtTcpState.FIN_WAIT_2 ? 2 : 1);

const KINDS = ['ack', 'data', 'fin', 'rst', 'stale'] as const;
const step = fc.record({ conn: fc.nat(), server: fc.boolean(), kind: fc.constantFrom(...KINDS), len: fc.integer({ min: 1, max: 40 }) });

describe('tcpClosing against the peer states', () => {
  it('every node of every live connection, after each segment of generated FIN/RST sequences', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 16 }), fc.array(step, { minLength: 1, maxLength: 120 }), (n, cap, steps) => {
        // A small first table: it grows, so that the slots in use reach its last ones (the bound's edge).
        const r = new Runner({ initialCapacity: cap });
        // Per connection: its next sequence numbers (client, server), its slot and generation once found.
        const conns: { seq: [number, number]; node: number; gen: number }[] = [];
        const seg = (i: number, server: boolean, flags: number, seq: number, ack: number, payload = 0) =>
          server
            ? frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 30000 + i, flags, seq, ack, payload })
            : frame({ src: C, dst: V, proto: 'tcp', sport: 30000 + i, dport: 80, flags, seq, ack, payload });
        for (let i = 0; i < n; i++) {
          r.run(seg(i, false, F.SYN, 1000, 0), { commit: true });
          r.run(seg(i, true, F.SYN | F.ACK, 5000, 1001), {});
          r.run(seg(i, false, F.ACK, 1001, 5001), {});
          conns.push({ seq: [1001, 5001], node: r.ct.foundNode & ~1, gen: r.ct.foundGen });
        }
        let asked = 0;
        for (const s of steps) {
          const c = conns[s.conn % n]!;
          const me = s.server ? 1 : 0;
          const seq = c.seq[me]!;
          const ack = c.seq[me ^ 1]!;
          if (s.kind === 'ack') r.run(seg(s.conn % n, s.server, F.ACK, seq, ack), {});
          else if (s.kind === 'data') {
            r.run(seg(s.conn % n, s.server, F.PSH | F.ACK, seq, ack, s.len), {});
            c.seq[me] = (seq + s.len) >>> 0;
          } else if (s.kind === 'fin') {
            r.run(seg(s.conn % n, s.server, F.FIN | F.ACK, seq, ack), {});
            c.seq[me] = (seq + 1) >>> 0;
          } else if (s.kind === 'rst') r.run(seg(s.conn % n, s.server, F.RST, seq, 0), {});
          else r.run(seg(s.conn % n, s.server, F.ACK, (seq - 100000) >>> 0, ack), {});
          const live = new Map(r.ct.connections(0).map((x) => [x.slot, x]));
          for (const k of conns) {
            const slot = k.node >> 1;
            for (const dir of [0, 1]) {
              const got = r.ct.tcpClosing(k.node | dir, k.gen);
              // A connection a RST ended may be gone (its slot freed: another generation) — then -1 only.
              const want = live.has(slot) ? model(r.ct.tcpStates(slot), dir) : -1;
              expect(got, `slot ${slot} dir ${dir}`).toBe(want);
              if (want >= 0) asked++;
              expect(r.ct.tcpClosing(k.node | dir, (k.gen + 1) >>> 0)).toBe(-1);
            }
          }
          expect([r.ct.tcpClosing(-1, 0), r.ct.tcpClosing(-2, conns[0]!.gen), r.ct.tcpClosing(0x7fffffff, 0), r.ct.tcpClosing(0x40000000, 0)]).toEqual([-1, -1, -1, -1]);
        }
        return asked >= 0;
      }),
      { numRuns: 60, seed: SEED },
    );
  });

  it('the generated sequences reach every answer (0, 1, 2) and high slots', () => {
    // A fixed close of many connections, server first then client (http's), and a RST: the property's cases exist.
    const r = new Runner();
    const seen = new Set<number>();
    let top = 0;
    for (let i = 0; i < 40; i++) {
      const cl = (flags: number, seq: number, ack: number) => frame({ src: C, dst: V, proto: 'tcp', sport: 31000 + i, dport: 80, flags, seq, ack });
      const sv = (flags: number, seq: number, ack: number) => frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 31000 + i, flags, seq, ack });
      r.run(cl(F.SYN, 1000, 0), { commit: true });
      r.run(sv(F.SYN | F.ACK, 5000, 1001), {});
      r.run(cl(F.ACK, 1001, 5001), {});
      const node = r.ct.foundNode & ~1;
      const gen = r.ct.foundGen;
      top = Math.max(top, node >> 1);
      seen.add(r.ct.tcpClosing(node, gen));
      r.run(sv(F.FIN | F.ACK, 5001, 1001), {});
      seen.add(r.ct.tcpClosing(node | 1, gen));
      r.run(cl(F.FIN | F.ACK, 1001, 5002), {});
      seen.add(r.ct.tcpClosing(node, gen));
      expect(r.ct.tcpClosing(node, gen)).toBe(model(r.ct.tcpStates(node >> 1), 0));

    }
    expect([...seen].filter((x) => x <= 2).sort()).toEqual([0, 1, 2]);
    expect(top).toBeGreaterThanOrEqual(32);
  });
});
