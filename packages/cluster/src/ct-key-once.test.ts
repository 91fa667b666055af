/**
 * The default cluster's switch on the VIP's chassis makes five ct() calls per SYN to the VIP, in two zones; the
 * executor clears the packet's ct_state between the zones (hideCt), and numbers its packets (CtResult.packet) so
 * that conntrack still knows the packet and extracts its key — checksums verified — once per frame, not once per
 * zone. A new frame in the same buffer is a new packet: extracted again. (The equality of kept and extracted keys
 * is packages/ovn/src/ct/engine-packet.test.ts's property; this counts what the switch does.)
 */
import { describe, expect, it } from 'vitest';
import { OvsConntrack, SwitchOutcome } from '@vippath/ovn';
import { buildFrame } from '@vippath/wire';
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from './index.js';

describe("the switch's conntrack extracts a frame's key once", () => {
  it('per SYN through both zones, and again for the next frame in the same buffer', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const ls = sim.ls;
    const counts: Record<string, number> = { run: 0, extractKey: 0, reuseKey: 0 };
    const P = OvsConntrack.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const saved = Object.keys(counts).map((name) => [name, P[name]!] as const);
    try {
      for (const [name, orig] of saved) {
        P[name] = function (this: unknown, ...a: unknown[]) {
          counts[name]!++;
          return orig.apply(this, a);
        };
      }
      const out = new SwitchOutcome();
      const buf = new Uint8Array(128);
      const syns = 20;
      for (let i = 0; i < syns; i++) {
        const syn = buildFrame({ dst: '00:00:00:01:00:01', src: '52:54:00:cc:00:01', ipv4: { src: `10.181.0.${i + 1}`, dst: '10.180.204.252' }, tcp: { srcPort: 40000 + i, dstPort: 80, flags: 0x02, seq: 1000, ack: 0, window: 64240 } });
        buf.set(syn);
        ls.processInto(buf, syn.length, `localnet.${ls.name}`, 'node3', 0, out);
        expect(out.count).toBe(1);
        expect(out.ports[0]).not.toBe(`localnet.${ls.name}`);
      }
      // Two zones: more than one call per SYN, and every call after the first takes the kept key.
      expect(counts.run).toBeGreaterThanOrEqual(syns * 3);
      expect(counts.extractKey).toBe(syns);
      expect(counts.reuseKey).toBe(counts.run! - syns);
    } finally {
      for (const [name, orig] of saved) P[name] = orig;
    }
  });
});
