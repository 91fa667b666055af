/**
 * The hash table after commits (engine.ts insertNodes, hashTk): every live connection's two nodes stand in the chain of
 * their bucket, each linked under hashAt of its own key — the original key under the lookup's hash, the reply key
 * under the NAT tuple search's (ct_lb's one candidate and the plain commit hash the scratch reply key with hashTk, the
 * other searches with hashAt) or the plain commit's own. A node whose link hash differs from its key's is one no lookup
 * finds; one missing from its chain (a bucket bit or head lost when both nodes' buckets share a bitmap word) likewise.
 * Generated: IPv4 and IPv6 TCP, UDP and ICMP echo packets from a few clients, committed in two zones without NAT,
 * with DNAT to one address and port (ct_lb's backend), to an address range, or SNAT; replies; a table that starts at
 * one slot and grows (rehashing) in most runs, so that small bucket arrays put both nodes' buckets in one word.
 * Seeds: fast-check prints the seed and the shrunk operations of a failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CT_KEY_WORDS, OvsConntrack } from './engine.js';
import { clientOpBackend, clientOpFrame, Runner, type ClientOp, type CtCall } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;

interface Op extends ClientOp {
  zone: number;
  nat: 'none' | 'dnat' | 'range' | 'snat';
}

const op: fc.Arbitrary<Op> = fc.record({
  v6: fc.boolean(),
  proto: fc.constantFrom<Op['proto']>('tcp', 'udp', 'icmp'),
  client: fc.integer({ min: 0, max: 2 }),
  sport: fc.integer({ min: 1000, max: 1003 }),
  zone: fc.constantFrom(1, 4),
  nat: fc.constantFrom<Op['nat']>('none', 'dnat', 'range', 'snat'),
  reply: fc.boolean(),
});

/** The engine's table as the test reads it (private fields). */
interface Table {
  keys: Uint32Array;
  links: Int32Array;
  buckets: Int32Array;
  occupied: Uint32Array;
  bucketMask: number;
  liveHead: number;
  liveNext: Int32Array;
  loadKey(n: number, k: Uint32Array): void;
  hashAt(k: Uint32Array): number;
}

function checkTable(ct: OvsConntrack): void {
  const t = ct as unknown as Table;
  const k = new Uint32Array(CT_KEY_WORDS);
  for (let e = t.liveHead; e >= 0; e = t.liveNext[e]!) {
    for (const n of [e * 2, e * 2 + 1]) {
      t.loadKey(n, k);
      const h = t.hashAt(k);
      expect(t.links[n * 2], `node ${n}'s link hash`).toBe(h);
      const b = h & t.bucketMask;
      expect(t.occupied[b >>> 5]! & (1 << (b & 31)), `node ${n}'s bucket bit`).not.toBe(0);
      let m = t.buckets[b]!;
      while (m >= 0 && m !== n) m = t.links[m * 2 + 1]!;
      expect(m, `node ${n} in its bucket's chain`).toBe(n);
    }
  }
}

describe('OvsConntrack hash table', () => {
  it("links every live connection's nodes under their keys' hashes, in their buckets' chains", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.constantFrom(1, 4, 64), (ops, initialCapacity) => {
        const r = new Runner({ initialCapacity, reservedCapacity: 64 });
        for (const o of ops) {
          const backend = clientOpBackend(o.v6);
          const f = clientOpFrame(o);
          const target = o.v6 ? (o.nat === 'range' ? `[${backend}]:8080-8081` : `[${backend}]:8080`) : o.nat === 'range' ? '10.1.0.5-10.1.0.7:8080-8081' : `${backend}:8080`;
          const call: CtCall = { zone: o.zone, commit: !o.reply };
          if (!o.reply && o.nat === 'snat') call.snat = o.v6 ? `[${backend}]` : backend;
          else if (!o.reply && o.nat !== 'none') call.dnat = target;
          if (o.reply) call.nat = 'apply';
          r.run(f, call);
          checkTable(r.ct);
          r.now += 1;
        }
      }),
      { numRuns: 300, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });
});
