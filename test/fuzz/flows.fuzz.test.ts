/**
 * Malformed flow text, as dump-flows from other OVS versions and half-edited files give it: flows or a
 * FlowParseError with line and column; and whatever parses loads into a bridge that then forwards any frame
 * without throwing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bridge, BridgeError, FlowParseError, parseFlows } from '@vippath/openflow';
import { malformedFrameArb, frameArb } from '@vippath/testing';
import { announce, budget, seed } from './budget.js';

const REAL = [
  ' cookie=0x1000, duration=12.345s, table=0, n_packets=42, n_bytes=4200, idle_age=3, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
  ' cookie=0x0, duration=1.2s, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL',
  'table=0,priority=100,in_port=LOCAL,arp,arp_tpa=10.180.204.252,arp_op=1 actions=resubmit(,1)',
  'table=1, priority=50, dl_vlan=341 actions=strip_vlan,set_field:10.180.204.4->nw_dst,goto_table:2',
  'table=2,priority=10,ip,nw_src=10.180.204.0/24 actions=load:0x1->NXM_NX_REG0[2],ct(commit,zone=5),output:2',
  'priority=5,ipv6,ipv6_dst=fd00::252 actions=mod_vlan_vid:341,output:1',
  'priority=1,udp,tp_src=53 actions=drop',
  ' cookie=0x1001, duration=0.5s, table=0, n_packets=1, n_bytes=78, priority=10000,tcp6,in_port="underlay0.341",ipv6_dst=fd00:10:180:204::252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:"patch-localnet.underlay-subnet-to-br-int"',
];
const JUNK = [',', '=', '(', ')', '"', ':', '->', '0x', '[', ']', '/', '..', ' ', '\t', '\u00e9', '\u{1F600}', 'actions=', 'priority=', 'in_port=', 'nw_dst=', 'dl_vlan=4096', 'tp_dst=70000', 'output:', 'NORMAL', 'resubmit(,', 'ct(', 'x'.repeat(300)];

const textArb = fc.oneof(
  // Real lines cut, spliced and sprinkled with junk.
  fc.tuple(fc.array(fc.constantFrom(...REAL), { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...JUNK), fc.nat({ max: 8 })), { maxLength: 4 })).map(([lines, edits]) => {
    let t = lines.join('\n');
    for (const [at, junk, del] of edits) {
      const i = at % (t.length + 1);
      t = t.slice(0, i) + junk + t.slice(i + del);
    }
    return t;
  }),
  fc.string({ maxLength: 200 }),
  fc.array(fc.constantFrom(...JUNK), { maxLength: 30 }).map((p) => p.join('')),
);

describe('malformed flow text', () => {
  const runs = budget(2000);
  it(`parses or fails with a position; what parses forwards anything (${runs} texts)`, () => {
    announce('flows', runs, 'flow texts');
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(textArb, fc.oneof(frameArb(), malformedFrameArb()), fc.constantFrom(1, 2, 0xfffe), (text, frame, inPort) => {
        let flows;
        try {
          flows = parseFlows(text, { ports: new Map([['underlay0.341', 1], ['patch-localnet.underlay-subnet-to-br-int', 2]]) });
        } catch (e) {
          expect(e).toBeInstanceOf(FlowParseError);
          const err = e as FlowParseError;
          expect(err.line).toBeGreaterThanOrEqual(1);
          expect(err.column).toBeGreaterThanOrEqual(1);
          refused++;
          return;
        }
        parsed++;
        const br = new Bridge('br-provider', [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2 }]);
        try {
          br.addFlows(flows);
        } catch (e) {
          expect(e).toBeInstanceOf(BridgeError);
          return;
        }
        const bytes = 'bytes' in frame ? frame.bytes : frame;
        const r = br.process(bytes as Uint8Array, inPort);
        expect(r.drop).toBe(r.outputs.length === 0);
      }),
      { numRuns: runs, seed },
    );
    expect(parsed).toBeGreaterThan(runs / 20);
    expect(refused).toBeGreaterThan(runs / 20);
  }, 600_000);
});
