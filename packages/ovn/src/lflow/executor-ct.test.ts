/**
 * The executor with the OVS-like conntrack engine (`ct/`) on the flows real ovn-northd 23.03 wrote for the default
 * scenario's switch (test/fixtures/ovsdb/sb-backup.db), every pod bound on one chassis: what OVN does and
 * ovn-trace cannot show — the SYN is committed in both ports' zones, the pod's SYN-ACK is est|rpl in the pod's zone
 * and leaves the localnet port with the VIP as its source (reply un-DNAT).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame } from '@vippath/wire';
import { readOvsdbFile } from '../ovsdb.js';
import { OvsConntrack } from '../ct/index.js';
import { LflowExecutor, parseLbDst } from './executor.js';
import { sbFromOvsdb } from './sb.js';

const sb = sbFromOvsdb(readOvsdbFile(readFileSync(new URL('../../../../test/fixtures/ovsdb/sb-backup.db', import.meta.url))));
for (const p of sb.portBindings) if (p.type === '') p.chassis = 'node1';
const LN = 'localnet.underlay-subnet';
const POD = { name: 'deploy-169402624-0.default', mac: '00:00:00:0a:0b:01', ip: '10.180.204.2' };
const CLIENT = { mac: '52:54:00:aa:00:64', ip: '10.180.204.100' };
const VIP = '10.180.204.252';

describe('logical flows with OVS-like conntrack (chassis mode)', () => {
  it('SYN to the VIP reaches the backend DNATed; the SYN-ACK is est|rpl and leaves un-DNATed', () => {
    const ex = new LflowExecutor(sb, 'underlay-subnet', { chassis: 'node1', ct: new OvsConntrack(), lbDst: parseLbDst(`${POD.ip}:80`) });
    const syn = buildFrame({ src: CLIENT.mac, dst: POD.mac, ipv4: { src: CLIENT.ip, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, seq: 1000, flags: 0x002 } });
    const r1 = ex.runFrame(syn.slice(), syn.length, LN, 0, true);
    expect(r1.outputs.map((o) => o.port)).toEqual([POD.name]);
    const out1 = parseFrame(r1.outputs[0]!.frame.subarray(0, r1.outputs[0]!.length));
    expect([out1.ipv4?.src, out1.ipv4?.dst, out1.tcp?.dstPort, out1.checksum]).toEqual([CLIENT.ip, POD.ip, 80, 'ok']);
    // Committed in the localnet port's zone by ct_lb_mark and in the pod's zone by ls_out_stateful.
    expect(r1.ct.map((c) => `${c.stage}:${c.state}`)).toEqual(['ls_in_pre_stateful:new|trk', 'ls_in_lb:new|trk|dnat', 'ls_out_pre_stateful:new|trk']);
    expect(r1.stages.some((s) => s.stage === 'ls_out_stateful' && s.priority === 100)).toBe(true);

    const synAck = buildFrame({ src: POD.mac, dst: CLIENT.mac, ipv4: { src: POD.ip, dst: CLIENT.ip }, tcp: { srcPort: 80, dstPort: 40000, seq: 5000, ack: 1001, flags: 0x012 } });
    const r2 = ex.runFrame(synAck.slice(), synAck.length, POD.name, 1, true);
    // OVS marks the reply's reverse DNAT as a source translation (conntrack.c nat_packet: reply ⇒ CS_SRC_NAT).
    expect(r2.ct.map((c) => `${c.stage}:${c.state}`)).toEqual(['ls_in_pre_stateful:est|rpl|trk', 'ls_out_pre_stateful:est|rpl|trk|snat']);
    expect(r2.outputs.map((o) => o.port)).toEqual([LN]);
    const out2 = parseFrame(r2.outputs[0]!.frame.subarray(0, r2.outputs[0]!.length));
    expect([out2.ipv4?.src, out2.ipv4?.dst, out2.tcp?.srcPort, out2.checksum]).toEqual([VIP, CLIENT.ip, 80, 'ok']);
  });

  it("a SYN's key is extracted once over its ct() calls in both zones; the next frame in the same buffer is extracted again", () => {
    const ct = new OvsConntrack();
    const counts: Record<string, number> = { run: 0, extractKey: 0, reuseKey: 0 };
    const spy = ct as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of Object.keys(counts)) {
      const orig = spy[name]!;
      spy[name] = function (this: unknown, ...a: unknown[]) {
        counts[name]!++;
        return orig.apply(this, a);
      };
    }
    const ex = new LflowExecutor(sb, 'underlay-subnet', { chassis: 'node1', ct, lbDst: parseLbDst(`${POD.ip}:80`) });
    const syn = buildFrame({ src: CLIENT.mac, dst: POD.mac, ipv4: { src: CLIENT.ip, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, seq: 1000, flags: 0x002 } });
    const buf = new Uint8Array(syn.length + 8);
    buf.set(syn);
    expect(ex.runFrame(buf, syn.length, LN, 0).outputs.map((o) => o.port)).toEqual([POD.name]);
    // Both zones (the localnet port's, the pod's): the executor clears ct_state between them, the packet stays numbered.
    expect(counts.run).toBeGreaterThanOrEqual(3);
    expect(counts.extractKey).toBe(1);
    expect(counts.reuseKey).toBe(counts.run! - 1);
    // The bytes the run left in the buffer (DNATed to the pod) sent again with a byte the TCP checksum covers
    // corrupted (the window): a new packet, whose key is extracted and found invalid, although its addresses, ports
    // and checksum field are those the kept key was taken from.
    buf[14 + 20 + 14] = buf[14 + 20 + 14]! ^ 0x01;
    const before = counts.extractKey!;
    const r = ex.runFrame(buf, syn.length, LN, 1, true);
    expect(counts.extractKey).toBe(before + 1);
    expect(r.ct[0]?.state).toBe('inv|trk');
  });

  it('hairpin: a pod reaching its own VIP gets its SYN back SNATed to the VIP (ls_in_nat_hairpin, ls_in_hairpin)', () => {
    const ex = new LflowExecutor(sb, 'underlay-subnet', { chassis: 'node1', ct: new OvsConntrack(), lbDst: parseLbDst(`${POD.ip}:80`) });
    const syn = buildFrame({ src: POD.mac, dst: '00:00:00:01:00:01', ipv4: { src: POD.ip, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, seq: 1000, flags: 0x002 } });
    const r = ex.runFrame(syn.slice(), syn.length, POD.name, 0, true);
    expect(r.stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['ls_in_nat_hairpin', 'ls_in_hairpin']));
    expect(r.outputs.map((o) => o.port)).toEqual([POD.name]);
    const out = parseFrame(r.outputs[0]!.frame.subarray(0, r.outputs[0]!.length));
    expect([out.eth.src, out.eth.dst, out.ipv4?.src, out.ipv4?.dst, out.checksum]).toEqual(['00:00:00:01:00:01', POD.mac, VIP, POD.ip, 'ok']);
    // The pod answers the VIP it saw as source; ovn-controller learned that reply (chk_lb_hairpin_reply): it is
    // un-SNATed in the SNAT zone, hairpinned, and un-DNATed in the pod's zone — the pod sees VIP:80 → itself.
    // Found by the real OVS+OVN testbed (before, the SYN-ACK left through the localnet port).
    const synAck = buildFrame({ src: POD.mac, dst: '00:00:00:01:00:01', ipv4: { src: POD.ip, dst: VIP }, tcp: { srcPort: 80, dstPort: 40000, seq: 5000, ack: 1001, flags: 0x012 } });
    const back = ex.runFrame(synAck.slice(), synAck.length, POD.name, 1, true);
    expect(back.stages.filter((s) => s.stage === 'ls_in_nat_hairpin' || s.stage === 'ls_in_hairpin').length).toBe(2);
    expect(back.outputs.map((o) => o.port)).toEqual([POD.name]);
    const rep = parseFrame(back.outputs[0]!.frame.subarray(0, back.outputs[0]!.length));
    expect([rep.eth.src, rep.eth.dst, rep.ipv4?.src, rep.ipv4?.dst, rep.tcp?.srcPort, rep.tcp?.dstPort, rep.checksum]).toEqual(['00:00:00:01:00:01', POD.mac, VIP, POD.ip, 80, 40000, 'ok']);
  });
});
