/**
 * Generated frames through the whole default-scenario path — valid ones of every protocol, and the same mutated
 * and truncated — entering at the outside and at every other place a frame can enter. Nothing throws; every
 * frame ends with a verdict, a dropped one with its reasons, and the counters add up: in a replay, the
 * verdicts of all frames sum to the frames read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture, SimulatedCluster } from '@vippath/cluster';
import { memorySink, PcapWriter } from '@vippath/pcap';
import { frameArb, malformedFrameArb } from '@vippath/testing';
import { buildFrame } from '@vippath/wire';
import { Readable } from 'node:stream';
import { announce, budget, seed } from './budget.js';

const CHOICES = {
  macs: ['52:54:00:aa:00:64', '52:54:00:bb:00:03', '52:54:00:bb:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:b4:cc:04', '00:00:00:01:00:01', '33:33:00:00:00:01'],
  ipv4: ['10.180.204.100', '10.180.204.252', '10.180.204.4', '10.180.204.2', '10.180.204.1', '10.180.204.250', '255.255.255.255'],
  ports: [80, 40000, 443, 0],
  vlans: [[341], [341], [], [100], [341, 341], [0]],
};

// The shapes the path cares most about, built directly: a whole client conversation's worth of segments.
const conversationArb = fc.tuple(fc.integer({ min: 40000, max: 40003 }), fc.constantFrom(0x02, 0x10, 0x18, 0x11, 0x04)).map(([sport, flags]) =>
  buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: sport, dstPort: 80, flags, seq: 1, ack: 1, ...(flags & 0x08 ? { payload: new TextEncoder().encode('GET /clientip HTTP/1.1\r\n\r\n') } : {}) } }));

const frameLikeArb = fc.oneof(
  { weight: 3, arbitrary: frameArb(CHOICES).map((f) => f.bytes) },
  { weight: 3, arbitrary: malformedFrameArb(CHOICES) },
  { weight: 2, arbitrary: conversationArb },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
);

const INGRESS = ['outside', 'outside', 'outside', 'node1', 'node3/underlay0.341', 'node2/br-provider', 'node3/deploy-169402624-2'];

describe('frames through the whole path', () => {
  const batches = Math.max(1, Math.round(budget(20_000) / 100));
  it(`never throw, always end with a verdict and counted reasons (${batches * 100} frames)`, () => {
    announce('frames', batches * 100, 'frames (batches of 100, at several ingresses, inject and process)');
    let frames = 0;
    let dropped = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(frameLikeArb, fc.constantFrom(...INGRESS), fc.integer({ min: 0, max: 3000 })), { minLength: 100, maxLength: 100 }), (batch) => {
        const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: frames % 2 === 0 });
        const fast = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
        let now = 0;
        let reasons = 0;
        for (const [bytes, ingress, gap] of batch) {
          now += gap;
          frames++;
          const r = sim.inject(bytes, now, ingress);
          expect(['delivered', 'answered', 'forwarded', 'dropped']).toContain(r.verdict);
          if (r.verdict === 'dropped') {
            dropped++;
            expect(r.drops.length).toBeGreaterThan(0);
          }
          for (const d of r.drops) expect(d.reason.length).toBeGreaterThan(0);
          reasons += r.drops.length;
          // The hot path agrees on the verdict for what enters from the outside.
          if (ingress === 'outside') expect(['delivered', 'answered', 'forwarded', 'dropped']).toContain(fast.process(bytes, bytes.length, now));
        }
        // Every drop a frame reported is counted (the first inject may also count GARP-time drops).
        expect([...sim.dropCounts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(reasons);
      }),
      { numRuns: batches, seed },
    );
    expect(dropped).toBeGreaterThan(frames / 20);
  }, 900_000);

  it('in a replay, the verdicts of all frames add up to the frames read', async () => {
    const frames = fc.sample(frameLikeArb, { numRuns: 3000, seed });
    const sink = memorySink();
    const w = new PcapWriter(sink);
    frames.forEach((f, i) => w.write({ timestamp: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, data: f }));
    for (const outDir of [undefined, 'trace']) {
      const { summary } = await replayCapture(Readable.from([sink.bytes()]), defaultObjects(), DEFAULT_CLUSTER, outDir ? { keepTraces: true } : {});
      const v = summary.verdicts;
      expect(summary.framesRead).toBe(3000);
      expect(v.delivered + v.answered + v.forwarded + v.dropped + v.skipped).toBe(summary.framesRead);
      expect(summary.injected + summary.skippedFromCluster + summary.skippedNotEthernet).toBe(summary.framesRead);
    }
  });
});
