/**
 * The egress pipeline starts from the ingress words with the logical flags, the ten registers and the zone words
 * cleared (clearForEgress). A cached walk whose egress copy ends in the segment's closing ct call clears them in place
 * with one literal store per word (executor.ts `exec`, OUT_INPLACE); the segment after that call is looked up, and
 * recorded, from those words. Here the ingress sets every register and a flag bit no executor code reads, and the
 * egress table after its ct call outputs with a source MAC naming the first of them still set: a cached and an
 * uncached executor must give the same bytes on every copy of the frame — a word left uncleared by the in-place
 * clear shows as another MAC. (The zone words 67–69 are written by no flow or action: clearing them is not
 * observable.)
 */
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { LflowExecutor } from './executor.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';

function southbound() {
  const { flows, add } = flowList();
  const regs = Array.from({ length: 10 }, (_, i) => `reg${i} = ${i + 1};`).join(' ');
  add('ingress', 0, 0, '1', `${regs} flags[20] = 1; next;`);
  add('ingress', 1, 0, '1', 'ct_next;');
  add('ingress', 2, 0, '1', 'outport = "p2"; output;');
  add('egress', 0, 0, '1', 'ct_next;');
  for (let i = 0; i < 10; i++) add('egress', 1, 20 + i, `reg${i} != 0`, `eth.src = 00:00:00:00:00:${(0x10 + i).toString(16)}; output;`);
  add('egress', 1, 10, 'flags[20] == 1', 'eth.src = 00:00:00:00:00:20; output;');
  add('egress', 1, 0, '1', 'output;');
  return oneSwitch(flows, [vif('p1', 2, '00:00:00:00:00:01 10.0.1.1'), vif('p2', 3, '00:00:00:00:00:02 10.0.0.2')]);
}

describe('egress copy cleared in place (OUT_INPLACE)', () => {
  it('clears the flags and every register before the egress pipeline, as the uncached walk does', () => {
    const sb = southbound();
    const cached = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
    const plain = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
    cached.enableMegaflows({});
    const frame = buildFrame({ src: '00:00:00:00:00:01', dst: '00:00:00:00:00:02', ipv4: { src: '10.0.1.1', dst: '10.0.0.2' }, udp: { srcPort: 4000, dstPort: 53 } });
    const run = (ex: LflowExecutor): unknown => {
      const buf = new Uint8Array(frame.length + 8);
      buf.set(frame);
      const r = ex.runFrame(buf, frame.length, 'p1', 1000);
      return r.outputs.map((o) => [o.port, [...o.frame.subarray(0, o.length)]]);
    };
    for (let i = 0; i < 4; i++) {
      const want = run(plain);
      expect(want).toEqual([['p2', [...frame]]]);
      expect({ copy: i, out: run(cached) }).toEqual({ copy: i, out: want });
    }
    // The copies after the first ran the cached segments (the in-place clear among them).
    expect(cached.megaflowStats().hits).toBeGreaterThan(0);
  });
});
