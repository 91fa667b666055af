/**
 * frame-sync.ts `reloadTranslated` with `kept` (the executor's read-back after a words engine's NAT: an IPv4 frame's
 * addresses and ports taken from the decode the engine keeps) against the read of the frame's bytes (`kept` false).
 * OvsConntrack's executeWords runs generated packets — IPv4 and IPv6; TCP, UDP, ICMP echo, ICMP errors about a
 * connection (the backend's) or about a packet to the VIP (a router's), a later fragment, protocol 58 over IPv4,
 * another protocol; clients to a VIP and the backends' replies — each through 1–4 ct() calls in two zones with NAT
 * (apply, DNAT to a backend with or without a port, SNAT to the VIP), some committing. After every call that rewrote
 * the frame, both forms read it back from the same state (the words, the shadow holding junk, the decode): the
 * words, the whole shadow and every field of the decode must be equal. The packet then goes on with the words as
 * read back (as the executor's walk does).
 *
 * Seed: 20261207 unless VIPPATH_NATBACK_SEED gives one (`random`: a new one, printed); VIPPATH_NATBACK_RUNS
 * (default 300).
 */
import fc from 'fast-check';
import { DecodedFrame, FrameDecoder, L3 } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { CtNat, CtRequest, CtResult } from './ct-api.js';
import { W } from './fields.js';
import { FRAME_SHADOW, reloadTranslated } from './frame-sync.js';
import { OvsConntrack } from '../ct/engine.js';
import { F, natTo, vipFrame, type VipPacket } from '../ct/packets.test-helpers.js';

const SEED_ENV = process.env.VIPPATH_NATBACK_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261207;
const RUNS = Number(process.env.VIPPATH_NATBACK_RUNS ?? 300);

const V4 = { clients: ['10.0.0.1', '192.168.7.200'], vip: '10.96.0.10', backends: ['10.1.0.5', '172.16.9.250'] };
const V6 = { clients: ['fd00::1', 'fd00::2'], vip: 'fd00:96::10', backends: ['fd01::5', 'fd01::6'] };

interface Call {
  zone: number;
  commit: boolean;
  nat: 'apply' | 'dnat' | 'snat';
  backend: number;
  port: boolean;
}
interface Pkt {
  v6: boolean;
  proto: VipPacket['proto'];
  client: number;
  sport: number;
  backend: number;
  reply: boolean;
  flags: number;
  calls: Call[];
}

const call: fc.Arbitrary<Call> = fc.record({
  zone: fc.constantFrom(1, 1, 2),
  commit: fc.boolean(),
  nat: fc.constantFrom<Call['nat']>('apply', 'apply', 'dnat', 'dnat', 'snat'),
  backend: fc.integer({ min: 0, max: 1 }),
  port: fc.boolean(),
});
const pkt: fc.Arbitrary<Pkt> = fc.record({
  v6: fc.constantFrom(false, false, false, true),
  proto: fc.constantFrom<Pkt['proto']>('tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'icmp', 'error', 'errorVip', 'fragment', 'proto58', 'other47'),
  client: fc.integer({ min: 0, max: 1 }),
  sport: fc.constantFrom(40000, 40001, 65535),
  backend: fc.integer({ min: 0, max: 1 }),
  reply: fc.boolean(),
  flags: fc.constantFrom(F.SYN, F.SYN, F.SYN | F.ACK, F.ACK, F.FIN | F.ACK),
  calls: fc.array(call, { minLength: 1, maxLength: 4 }),
});

function build(p: Pkt): Uint8Array {
  return vipFrame(p.v6 ? V6 : V4, p);
}

function request(c: Call, v6: boolean, req: CtRequest): void {
  req.reset();
  req.zone = c.zone;
  req.commit = c.commit;
  req.nat = CtNat.APPLY;
  const a = v6 ? V6 : V4;
  if (c.nat !== 'apply') natTo(req, c.nat, c.nat === 'dnat' ? a.backends[c.backend]! : a.vip, c.port);
}

/** Every own field of the decode, typed arrays copied. */
function fieldsOf(d: DecodedFrame): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) o[k] = ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v;
  return o;
}

describe('reloadTranslated with kept (a words engine: the decode read)', () => {
  it('reads back the words, the shadow and the decode the frame read does, after every NATed call', () => {
    console.log(`nat read-back property: ${RUNS} runs, seed ${SEED} (VIPPATH_NATBACK_SEED / VIPPATH_NATBACK_RUNS)`);
    const count = { rewritten: 0, v4: 0, v6: 0, srcChanged: 0, dstChanged: 0, portChanged: 0, icmp: 0, related: 0, noL4: 0, byBytes: 0 };
    const shadow = FRAME_SHADOW;
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 1, maxLength: 8 }), fc.uint32Array({ minLength: W.SIZE, maxLength: W.SIZE }), (pkts, junk) => {
        const ct = new OvsConntrack({ sweepIntervalMs: 0, maxConnections: 8 });
        const decoder = new FrameDecoder();
        const d = new DecodedFrame();
        const res = new CtResult();
        res.packet = 1;
        const req = new CtRequest();
        const w = new Uint32Array(W.SIZE);
        const buf = new Uint8Array(2048);
        let now = 1;
        for (const p of pkts) {
          const f = build(p);
          buf.fill(0);
          buf.set(f);
          decoder.decode(buf, d, f.length);
          w.set(junk);
          w[W.ETH_TYPE] = d.l3 === L3.IPV6 ? 0x86dd : d.l3 === L3.IPV4 ? 0x800 : 0;
          for (let i = W.CT_STATE; i < W.CT_LABEL + 4; i++) w[i] = 0;
          for (let i = W.CT_NW_DST; i <= W.CT_NW_PROTO; i++) w[i] = 0;
          res.packet++;
          let first = true;
          for (const c of p.calls) {
            request(c, p.v6, req);
            const before = { src: d.ipSrc, dst: d.ipDst, sp: d.srcPort, dp: d.dstPort };
            ct.executeWords(buf, f.length, d, req, res, w, now++, 0, first, false);
            first = false;
            if (res.rewritten !== true) continue;
            count.rewritten++;
            const dBefore = fieldsOf(d);
            const junkShadow = junk.map((x) => x ^ 0x3c3c3c3c);
            // The fast form.
            shadow.set(junkShadow);
            const wKept = w.slice();
            reloadTranslated(buf, d, wKept, true);
            const shadowKept = shadow.slice();
            const dKept = fieldsOf(d);
            // The general form, from the same state.
            Object.assign(d, Object.fromEntries(Object.entries(dBefore).filter(([, v]) => !Array.isArray(v))));
            shadow.set(junkShadow);
            reloadTranslated(buf, d, w, false);
            expect(Array.from(wKept), 'words').toEqual(Array.from(w));
            expect(Array.from(shadowKept), 'shadow').toEqual(Array.from(shadow));
            expect(dKept, 'decode').toEqual(fieldsOf(d));
            if (d.l3 === L3.IPV4) {
              count.v4++;
              if (d.ipSrc !== before.src) count.srcChanged++;
              if (d.ipDst !== before.dst) count.dstChanged++;
              if (d.srcPort !== before.sp || d.dstPort !== before.dp) count.portChanged++;
              if (d.l4Offset < 0) count.noL4++;
              else if (d.ipProto === 1) {
                count.icmp++;
                if (p.proto === 'error' || p.proto === 'errorVip') count.related++;
              } else if (d.ipProto !== 6 && d.ipProto !== 17) count.byBytes++;
            } else count.v6++;
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`nat read-back property: ${JSON.stringify(count)}`);
    for (const k of ['rewritten', 'v4', 'v6', 'srcChanged', 'dstChanged', 'portChanged', 'icmp', 'related'] as const) expect(count[k], k).toBeGreaterThan(0);
  });
});
