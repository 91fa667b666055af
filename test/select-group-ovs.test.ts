/**
 * Differential test: the select-group bucket model (packages/ovn/src/lflow/select-group.ts) against the real
 * ovs-vswitchd 3.1 (dummy datapath). The group is the one ovn-controller installs for
 * `ct_lb_mark(backends=…)` (ovn lib/actions.c branch-23.03, encode_ct_lb): `type=select`, `selection_method=
 * dp_hash` or `selection_method=hash,fields(…)`, N buckets `bucket_id=i,weight:100`; here bucket i outputs to
 * port 10+i. Packets enter through a dummy port's unix stream (as in the testbed), optionally through a ct()
 * recirculation first (as OVN's ls_in_pre_stateful does before ls_in_lb), so the RSS hash and the recirculation
 * path are the real ones. fast-check generates IPv4/IPv6 TCP/UDP/SCTP/ICMP 5-tuples and N in 1..8.
 * Cases: VIPPATH_SELECT_CASES groups (default 60), each with a batch of packets; seed printed,
 * VIPPATH_SELECT_SEED replays (`random` explores); VIPPATH_SELECT_NOSHRINK=1 reports the first failure unshrunk.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileHashFields, dpHashBucket, hashFieldsBucket, rssHash } from '../packages/ovn/src/lflow/select-group.js';
import { OvsOracle, ovsUnavailable } from './ovs-harness.js';

const unavailable = ovsUnavailable();
if (unavailable) console.warn(`select-group differential test skipped: ${unavailable}`);
const CASES = Number(process.env.VIPPATH_SELECT_CASES ?? 60);
const SEED = process.env.VIPPATH_SELECT_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_SELECT_SEED ?? 20261201);

const IN = 1;
const OUT = [10, 11, 12, 13, 14, 15, 16, 17];
const FIELDS = ['', 'ip_src', 'ip_src,ip_dst,tp_src,tp_dst', 'ip_src,ip_dst,udp_src,udp_dst', 'ipv6_src,ipv6_dst,tcp_src,tcp_dst'];

interface Pkt {
  v6: boolean;
  proto: number;
  src: number[];
  dst: number[];
  sport: number;
  dport: number;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const pktArb: fc.Arbitrary<Pkt> = fc
  .record({
    v6: fc.boolean(),
    proto: fc.constantFrom(6, 17, 132, 1),
    src: fc.array(u32, { minLength: 4, maxLength: 4 }),
    dst: fc.array(u32, { minLength: 4, maxLength: 4 }),
    sport: fc.integer({ min: 0, max: 0xffff }),
    dport: fc.integer({ min: 0, max: 0xffff }),
  })
  .map((p) => {
    const proto = p.proto === 1 ? (p.v6 ? 58 : 1) : p.proto;
    // ICMP: type/code in the port slots; ICMPv6 echo request/reply only (ND types parse a body of their own).
    const sport = proto === 1 ? p.sport & 0xff : proto === 58 ? (p.sport & 1 ? 128 : 129) : p.sport;
    const dport = proto === 1 || proto === 58 ? p.dport & 0xff : p.dport;
    // Unicast, not loopback: first byte 1..223 for IPv4, fd00::/8 for IPv6.
    const fix = (a: number[]): number[] => (p.v6 ? [((0xfd << 24) | (a[0]! & 0xffffff)) >>> 0, a[1]!, a[2]!, a[3]!] : [(((1 + ((a[0]! >>> 24) % 223)) << 24) | (a[0]! & 0xffffff)) >>> 0]);
    return { v6: p.v6, proto, src: fix(p.src), dst: fix(p.dst), sport, dport };
  });

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 8 }),
  fields: fc.constantFrom(...FIELDS),
  ct: fc.boolean(),
  pkts: fc.array(pktArb, { minLength: 8, maxLength: 24 }),
});

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** An Ethernet frame of the packet; `tag` (in the payload) tells the copies leaving the group apart. */
function frameOf(p: Pkt, tag: number): Uint8Array {
  const l4len = p.proto === 6 ? 20 : p.proto === 132 ? 12 : 8;
  const payload = 4;
  const l3len = p.v6 ? 40 : 20;
  const f = new Uint8Array(14 + l3len + l4len + payload);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  f[12] = p.v6 ? 0x86 : 0x08;
  f[13] = p.v6 ? 0xdd : 0x00;
  const l4 = 14 + l3len;
  if (p.v6) {
    f[14] = 0x60;
    f[18] = (l4len + payload) >> 8;
    f[19] = (l4len + payload) & 0xff;
    f[20] = p.proto;
    f[21] = 64;
    for (let i = 0; i < 4; i++) put32(f, 22 + 4 * i, p.src[i]!);
    for (let i = 0; i < 4; i++) put32(f, 38 + 4 * i, p.dst[i]!);
  } else {
    f[14] = 0x45;
    f[16] = (l3len + l4len + payload) >> 8;
    f[17] = (l3len + l4len + payload) & 0xff;
    f[22] = 64;
    f[23] = p.proto;
    put32(f, 26, p.src[0]!);
    put32(f, 30, p.dst[0]!);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += (f[i]! << 8) | f[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    f[24] = ~sum >> 8;
    f[25] = ~sum & 0xff;
  }
  if (p.proto === 1 || p.proto === 58) {
    f[l4] = p.sport;
    f[l4 + 1] = p.dport;
  } else {
    f[l4] = p.sport >> 8;
    f[l4 + 1] = p.sport & 0xff;
    f[l4 + 2] = p.dport >> 8;
    f[l4 + 3] = p.dport & 0xff;
    if (p.proto === 6) {
      f[l4 + 12] = 0x50;
      f[l4 + 13] = 0x02;
      f[l4 + 15] = 0xff;
    }
    if (p.proto === 17) f[l4 + 5] = l4len + payload;
  }
  put32(f, f.length - 4, tag);
  return f;
}

function expected(p: Pkt, n: number, fields: string): number {
  const addr = [...p.src, ...p.dst];
  const dstAt = p.v6 ? 4 : 1;
  if (!fields) return dpHashBucket(rssHash(p.v6, addr, 0, dstAt, p.proto, p.sport, p.dport), n);
  return hashFieldsBucket(compileHashFields(fields), p.v6, addr, 0, dstAt, p.proto, p.sport, p.dport, n);
}

describe.skipIf(unavailable !== undefined)('select group bucket vs ovs-vswitchd 3.1', () => {
  let ovs: OvsOracle;
  let sock: Socket;
  beforeAll(async () => {
    ovs = new OvsOracle([IN, ...OUT], [IN]);
    for (let i = 0; ; i++) {
      try {
        sock = await new Promise<Socket>((resolve, reject) => {
          const c = connect(join(ovs.dir, `p${IN}.sock`));
          c.once('connect', () => resolve(c));
          c.once('error', reject);
        });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  afterAll(() => {
    sock?.destroy();
    ovs?.stop();
  });

  it('picks the bucket OVS picks, for every packet', async () => {
    console.log(`select-group differential: seed ${SEED}, ${CASES} group(s)`);
    let tag = 0;
    let packets = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ n, fields, ct, pkts }) => {
        ovs.ofctl('-O', 'OpenFlow15', 'del-groups', 'br0');
        ovs.setFlows([]);
        const buckets = Array.from({ length: n }, (_, i) => `bucket=bucket_id=${i},weight:100,actions=output:${OUT[i]}`).join(',');
        ovs.ofctl('-O', 'OpenFlow15', 'add-group', 'br0', `group_id=1,type=select,selection_method=${fields ? `hash,fields(${fields})` : 'dp_hash'},${buckets}`);
        const err = ovs.setFlows(ct ? [`table=0,in_port=${IN},ip,actions=ct(zone=5,table=1)`, `table=0,in_port=${IN},ipv6,actions=ct(zone=5,table=1)`, 'table=1,actions=group:1'] : [`table=0,in_port=${IN},actions=group:1`]);
        if (err) throw new Error(err);
        // Datapath flows cached from the previous group would catch (or drop, their recirculation ids gone) the
        // first packets before the revalidators catch up: start each group from an empty datapath flow table.
        ovs.appctl('revalidator/purge');
        ovs.appctl('dpctl/del-flows');
        const want = new Map<number, number>();
        const base = new Map(OUT.map((p) => [p, count(ovs, p)]));
        for (const p of pkts) {
          tag++;
          want.set(tag, OUT[expected(p, n, fields)]!);
          const f = frameOf(p, tag);
          const h = Buffer.alloc(2);
          h.writeUInt16BE(f.length);
          sock.write(Buffer.concat([h, f]));
        }
        // Wait until every packet has left through some bucket.
        const got = new Map<number, number>();
        for (let i = 0; i < 400 && got.size < pkts.length; i++) {
          await new Promise((r) => setTimeout(r, 10));
          got.clear();
          for (const port of OUT) for (const r of ovs.framesSince(port, base.get(port)!)) got.set(new DataView(r.buffer, r.byteOffset, r.byteLength).getUint32(r.length - 4), port);
        }
        packets += pkts.length;
        const diffs: string[] = [];
        for (const [t, port] of want) if (got.get(t) !== port) diffs.push(`${JSON.stringify(pkts[t - (tag - pkts.length) - 1])}: OVS bucket ${got.has(t) ? got.get(t)! - 10 : 'none'}, model ${port - 10}`);
        expect(diffs, `n=${n} fields=${fields || 'dp_hash'} ct=${ct}`).toEqual([]);
      }),
      { seed: SEED, numRuns: CASES, endOnFailure: process.env.VIPPATH_SELECT_NOSHRINK !== undefined },
    );
    console.log(`select-group differential: ${packets} packets compared`);
  });
});

function count(ovs: OvsOracle, port: number): number {
  return ovs.framesSince(port, 0).length;
}
