/**
 * A chassis's `ct_commit` inside its segment (executor.ts runActions and exec, MfOp.CT_COMMIT with no entry point):
 * OVN encodes it as a ct() without recirculation (lib/actions.c encode_CT_COMMIT_V2, branch-23.03: NX_CT_RECIRC_NONE)
 * and OVS's xlate goes on in the same pass with every ct field cleared (ofproto-dpif-xlate.c compose_conntrack_action,
 * branch-3.1), so the flows after it read nothing of its outcome: the cached walk calls conntrack and goes on, where
 * it ended the segment and looked the next one up. These tests fail when the call is skipped or made twice, when the
 * hidden ct words are keyed as the segment's start held them (the walk would never be served from the cache), when
 * the segment is cut at the call again, and when a switch without a chassis (whose ct_commit leaves the call's ct
 * fields, as ovn-trace's flows read them) is given the same treatment.
 */
import { describe, expect, it } from 'vitest';
import { buildFrame, type DecodedFrame, type FrameSpec } from '@vippath/wire';
import { CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { LflowExecutor } from './executor.js';
import { localnet, oneSwitch, rowsOf, vif, type FlowRow } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };

/**
 * Ingress: ct_next; a new connection committed (its mark's bit from a register: a request made per call); after the
 * commit a flow that reads the ct state (tracked: register bit 5) and one that reads the mark (bit 6). On a chassis
 * both read an untracked packet's zeros and the frame goes out to p1; a packet not committed, and any packet without
 * a chassis, is tracked: dropped at table 4 with the mark's bit, at table 5 without it.
 */
function commitSwitch(): SouthboundState {
  const ingress: FlowRow[] = [
    [0, 0, '1', 'reg0[4] = 1; ct_next;'],
    [1, 50, 'ct.new', 'ct_commit { ct_mark[0] = reg0[4]; }; next;'],
    [1, 0, '1', 'next;'],
    [2, 50, 'ct.trk', 'reg0[5] = 1; next;'],
    [2, 0, '1', 'next;'],
    [3, 50, 'ct_mark[0] == 1', 'reg0[6] = 1; next;'],
    [3, 0, '1', 'next;'],
    [4, 60, 'reg0[6] == 1', 'drop;'],
    [4, 50, 'reg0[5] == 1', 'next;'],
    [4, 0, '1', 'outport = "p1"; output;'],
    [5, 0, '1', 'drop;'],
  ];
  return oneSwitch(rowsOf(ingress), [localnet(), vif('p1', 2, `${P1.mac} ${P1.ip}`)]);
}

/** Answers every ct() with `state` and mark 1, a commit with `commitMark`, and logs each call's zone, commit flag and mark asked. */
class LogCt implements ConntrackEngine {
  state = CtState.TRK | CtState.NEW;
  commitMark = 1;
  readonly calls: string[] = [];
  execute(_f: Uint8Array, _l: number, _d: DecodedFrame, r: CtRequest, res: CtResult): void {
    this.calls.push(`${r.zone}/${r.commit ? 'commit' : 'next'}/${r.setMark ? r.markValue : '-'}`);
    res.state = this.state;
    res.mark = r.commit ? this.commitMark : 1;
  }
}

const udp = (sport: number): FrameSpec => ({ src: '52:54:00:00:00:07', dst: P1.mac, ipv4: { src: '10.0.0.9', dst: P1.ip }, udp: { srcPort: sport, dstPort: 53 } });

function side(chassis: string | undefined, megaflows: boolean): { ex: LflowExecutor; ct: LogCt; send(sport: number): string } {
  const ct = new LogCt();
  const ex = new LflowExecutor(commitSwitch(), 'ls', { ...(chassis !== undefined ? { chassis } : {}), ct, megaflows: megaflows ? { connections: false } : false });
  const buf = new Uint8Array(256);
  return {
    ex,
    ct,
    send(sport) {
      const f = buildFrame(udp(sport));
      buf.set(f);
      const r = ex.runFrame(buf, f.length, 'ln', 0);
      return `${r.outputs.map((o) => `${o.port}:${Buffer.from(o.frame.subarray(0, o.length)).toString('hex')}`).join(',')}|${r.drops.map((d) => `${d.table}/${d.reason}`).join(',')}`;
    },
  };
}

describe("a chassis's ct_commit inside its segment", () => {
  it('calls conntrack once, reads an untracked packet after it, and is served from the cache in two segments a frame', () => {
    const cached = side('node1', true);
    const plain = side('node1', false);
    for (let i = 0; i < 40; i++) {
      // New connections and established ones alternating in runs (a commit on some frames, not on others).
      const state = (i >> 2) % 2 === 0 ? CtState.TRK | CtState.NEW : CtState.TRK | CtState.EST;
      cached.ct.state = plain.ct.state = state;
      cached.ct.commitMark = plain.ct.commitMark = i % 3 === 0 ? 1 : 0;
      expect(cached.send(1000 + (i % 5))).toBe(plain.send(1000 + (i % 5)));
      expect(cached.ct.calls).toEqual(plain.ct.calls);
    }
    // The flows after the commit see neither ct.trk nor ct_mark (hidden): out to p1; without a commit, dropped.
    plain.ct.state = CtState.TRK | CtState.NEW;
    expect(plain.send(1)).toMatch(/^p1:/);
    plain.ct.state = CtState.TRK | CtState.EST;
    expect(plain.send(1)).toBe('|4/0');
    plain.ct.state = CtState.TRK | CtState.NEW;
    plain.ct.commitMark = 1;
    expect(plain.send(1)).toMatch(/^p1:/);
    // Each new frame: ct_next in the port's zone, then the commit with the mark from reg0[4].
    expect(plain.ct.calls.slice(-2)).toEqual(['1/next/-', '1/commit/1']);
    const before = cached.ex.megaflowStats();
    const calls = cached.ct.calls.length;
    for (let i = 0; i < 10; i++) {
      cached.ct.state = CtState.TRK | CtState.NEW;
      cached.send(2000 + i);
    }
    const after = cached.ex.megaflowStats();
    // Served: no miss, no slow walk; two segments a frame (the root and the one after ct_next — none after the commit).
    expect(after.misses - before.misses).toBe(0);
    expect(after.slow - before.slow).toBe(0);
    expect(after.hits - before.hits).toBe(20);
    expect(cached.ct.calls.length - calls).toBe(20);
  });

  it('is still a segment end without a chassis, where the flows after it read the call’s ct fields', () => {
    const cached = side(undefined, true);
    const plain = side(undefined, false);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const state = (i >> 2) % 2 === 0 ? CtState.TRK | CtState.NEW : CtState.TRK | CtState.EST;
      cached.ct.state = plain.ct.state = state;
      cached.ct.commitMark = plain.ct.commitMark = i % 3 === 0 ? 1 : 0;
      const out = plain.send(1000 + (i % 5));
      seen.add(out);
      expect(cached.send(1000 + (i % 5))).toBe(out);
      expect(cached.ct.calls).toEqual(plain.ct.calls);
    }
    // Both drops reached: the mark a commit answered decided the walk after it.
    expect([...seen].sort()).toEqual(['|4/0', '|5/0']);
  });
});
