/**
 * A cached segment that marks a walk as not translated (megaflow.ts `MfSegment.slow`, set from its `SLOW` op when
 * the segment is made; executor.ts segmentOps reads the flag, not the op): every frame that finds it runs the slow
 * path, and every other segment's ops run. These tests fail when the flag is left unset on such a segment (its
 * marker op would be run as the walk: no output) or set on another (every walk would take the slow path).
 */
import { describe, expect, it } from 'vitest';
import { buildFrame, type DecodedFrame, type FrameSpec } from '@vippath/wire';
import { CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { LflowExecutor } from './executor.js';
import { localnet, oneSwitch, rowsOf, vif, type FlowRow } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };

/**
 * Ingress: ct_next; after it, a frame to UDP port 53 builds a new packet (`arp { … }`: a walk the recorder does not
 * translate, executor.ts poison) sent to p1, any other frame goes out to p1 as it came.
 */
function nestSwitch(): SouthboundState {
  const ingress: FlowRow[] = [
    [0, 0, '1', 'ct_next;'],
    [1, 50, 'udp.dst == 53', 'arp { eth.dst = ff:ff:ff:ff:ff:ff; outport = "p1"; output; };'],
    [1, 0, '1', 'outport = "p1"; output;'],
  ];
  return oneSwitch(rowsOf(ingress), [localnet(), vif('p1', 2, `${P1.mac} ${P1.ip}`)]);
}

class EstCt implements ConntrackEngine {
  execute(_f: Uint8Array, _l: number, _d: DecodedFrame, _r: CtRequest, res: CtResult): void {
    res.state = CtState.TRK | CtState.EST;
  }
}

const udp = (dport: number): FrameSpec => ({ src: '52:54:00:00:00:07', dst: P1.mac, ipv4: { src: '10.0.0.9', dst: P1.ip }, udp: { srcPort: 1000, dstPort: dport } });

function side(megaflows: boolean): { ex: LflowExecutor; send(dport: number): string } {
  const ex = new LflowExecutor(nestSwitch(), 'ls', { chassis: 'node1', ct: new EstCt(), megaflows: megaflows ? { connections: false } : false });
  const buf = new Uint8Array(256);
  return {
    ex,
    send(dport) {
      const f = buildFrame(udp(dport));
      buf.set(f);
      const r = ex.runFrame(buf, f.length, 'ln', 0);
      return `${r.outputs.map((o) => `${o.port}:${((o.frame[12]! << 8) | o.frame[13]!).toString(16)}:${Array.from(o.frame.subarray(0, o.length)).join('.')}`).join(',')}|${r.drops.map((d) => `${d.table}/${d.reason}`).join(',')}`;
    },
  };
}

describe("a segment marked as the slow path's", () => {
  it('runs the slow path for each frame that finds it, and the ops of every other segment', () => {
    const cached = side(true);
    const plain = side(false);
    // Both kinds recorded once.
    for (const d of [53, 80]) expect(cached.send(d)).toBe(plain.send(d));
    const before = cached.ex.megaflowStats();
    for (let i = 0; i < 3; i++) {
      for (const d of [53, 80]) {
        const got = cached.send(d);
        expect(got).toBe(plain.send(d));
        // The port-53 frame's answer is the new packet (an ARP request), the other frame itself.
        expect(got.startsWith(d === 53 ? 'p1:806:' : 'p1:800:')).toBe(true);
      }
    }
    const after = cached.ex.megaflowStats();
    // Each port-53 frame: its segment after the call found, the slow path run from there (not a miss, not the ops).
    expect(after.slow - before.slow).toBe(3);
    expect(after.misses - before.misses).toBe(0);
    // Each frame's root segment and each port-80 frame's segment after the call: served by their ops.
    expect(after.hits - before.hits).toBe(9);
  });
});
