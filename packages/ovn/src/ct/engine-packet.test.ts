/**
 * A numbered packet's key kept across its ct() calls (CtResult.packet, engine.ts samePacket): the executor clears a
 * packet's ct_state between a chassis' zones (hideCt), and the engine knows the packet again by its number instead
 * of its ct_state. The reuse must give what a fresh extraction gives. Two engines run the same packets, one buffer
 * reused for every packet (as the executor's): one numbers its packets and reuses kept keys; the other runs each
 * call on a fresh copy of the bytes and a fresh decode, so it extracts every time. Between calls the caller clears
 * the ct fields or not, rewrites Ethernet addresses, IPv4 addresses and ports (checksums adjusted, the decode kept
 * current), or not; calls with and without NAT, in equal and different zones; new packets in the same buffer with
 * the same headers and a corrupted payload byte (a new number: extracted again, found invalid). Every call's
 * outcome, the bytes, the counters and the table must be equal.
 * Seeds: fast-check prints the seed and the shrunk case; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodedFrame, FrameDecoder, parseIPv4, rewriteIpv4Address, rewritePort, write32 } from '@vippath/wire';
import { CtNat, CtRequest, CtResult } from '../lflow/ct-api.js';
import { OvsConntrack } from './engine.js';
import { ctView, F, frame } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = Number(process.env.VIPPATH_CT_PACKET_RUNS ?? 300);

const CLIENTS = ['10.0.0.1', '10.0.0.2'];
const VIP = '10.96.0.10';
const BACKENDS = ['10.1.0.5', '10.1.0.6'];

type Edit = 'none' | 'eth' | 'src' | 'dst' | 'sport' | 'dport';
interface Call {
  zone: number;
  nat: 'none' | 'apply' | 'dnat' | 'snat';
  commit: boolean;
  /** Before the call: the caller clears the ct fields (hideCt, ct_clear). */
  hide: boolean;
  edit: Edit;
  editValue: number;
}
interface Packet {
  client: number;
  toVip: boolean;
  backend: number;
  reply: boolean;
  udp: boolean;
  flags: number;
  payload: number;
  /** A byte of the payload flipped: the TCP/UDP checksum no longer verifies. */
  corrupt: boolean;
  /** The new packet is the bytes the buffer holds (the last packet as its calls left it), not a new frame. */
  inPlace: boolean;
  /** The caller starts the packet by reset() (numbered: the number moves on) rather than by bumping the number. */
  byReset: boolean;
  ms: number;
  calls: Call[];
}

const call: fc.Arbitrary<Call> = fc.record({
  zone: fc.constantFrom(1, 1, 2, 3),
  nat: fc.constantFrom<Call['nat']>('none', 'none', 'apply', 'apply', 'dnat', 'snat'),
  commit: fc.boolean(),
  hide: fc.constantFrom(false, true, true),
  edit: fc.constantFrom<Edit>('none', 'none', 'none', 'eth', 'src', 'dst', 'sport', 'dport'),
  editValue: fc.integer({ min: 0, max: 3 }),
});
const packet: fc.Arbitrary<Packet> = fc.record({
  client: fc.integer({ min: 0, max: CLIENTS.length - 1 }),
  toVip: fc.boolean(),
  backend: fc.integer({ min: 0, max: BACKENDS.length - 1 }),
  reply: fc.constantFrom(false, false, true),
  udp: fc.constantFrom(false, false, false, true),
  flags: fc.constantFrom(F.SYN, F.SYN, F.SYN | F.ACK, F.ACK, F.ACK, F.ACK | F.PSH, F.FIN | F.ACK, F.RST),
  payload: fc.constantFrom(0, 0, 6),
  corrupt: fc.constantFrom(false, false, false, true),
  inPlace: fc.constantFrom(false, false, true),
  byReset: fc.boolean(),
  ms: fc.constantFrom(0, 0, 0, 10, 40_000),
  calls: fc.array(call, { minLength: 1, maxLength: 5 }),
});


function hideCt(r: CtResult): void {
  r.state = 0;
  r.mark = 0;
  r.label.fill(0);
  r.clearOriginal();
}

function request(req: CtRequest, c: Call, p: Packet): void {
  req.reset();
  req.zone = c.zone;
  req.commit = c.commit || c.nat === 'dnat' || c.nat === 'snat';
  if (c.nat === 'apply') req.nat = CtNat.APPLY;
  else if (c.nat === 'dnat' || c.nat === 'snat') {
    req.nat = c.nat === 'dnat' ? CtNat.DNAT : CtNat.SNAT;
    const to = parseIPv4(c.nat === 'dnat' ? BACKENDS[p.backend]! : VIP);
    write32(req.natAddrMin, 0, to);
    write32(req.natAddrMax, 0, to);
    if (c.nat === 'dnat') req.natPortMin = req.natPortMax = 8080;
  }
}

/** The caller's write between calls (the executor's storeFrame: checksums adjusted, the decode kept current). */
function edit(buf: Uint8Array, d: DecodedFrame, c: Call): void {
  const v = c.editValue;
  if (c.edit === 'eth') buf[v] = buf[v]! ^ 0x5a;
  else if (c.edit === 'src' || c.edit === 'dst') rewriteIpv4Address(buf, d, c.edit === 'src' ? 12 : 16, parseIPv4([...CLIENTS, VIP, ...BACKENDS][v]!));
  else if (c.edit === 'sport' || c.edit === 'dport') rewritePort(buf, d, c.edit === 'sport' ? 0 : 2, [40000, 80, 8080, 40001][v]!);
}

interface Side {
  ct: OvsConntrack;
  buf: Uint8Array;
  d: DecodedFrame;
  req: CtRequest;
  res: CtResult;
}

describe('OvsConntrack: a numbered packet keeps its key across its calls', () => {
  it('gives what extracting the key on every call gives (outcomes, bytes, counters, table)', () => {
    let reused = 0;
    let reusedCleared = 0;
    let calls = 0;
    const decoder = new FrameDecoder();
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 25 }), (packets) => {
        const mk = (): Side => ({ ct: new OvsConntrack({ sweepIntervalMs: 0 }), buf: new Uint8Array(256), d: new DecodedFrame(), req: new CtRequest(), res: new CtResult() });
        const a = mk();
        const b = mk();
        a.res.packet = 1;
        const reuse = (a.ct as unknown as { reuseKey(z: number): void }).reuseKey;
        let taken = 0;
        (a.ct as unknown as { reuseKey(z: number): void }).reuseKey = function (z: number) {
          taken++;
          reuse.call(this, z);
        };
        let now = 0;
        let len = 0;
        for (const [i, p] of packets.entries()) {
          now += p.ms;
          const client = CLIENTS[p.client]!;
          const server = p.toVip ? VIP : BACKENDS[p.backend]!;
          const f = frame({
            src: p.reply ? server : client,
            dst: p.reply ? client : server,
            proto: p.udp ? 'udp' : 'tcp',
            sport: p.reply ? (p.toVip ? 80 : 8080) : 40000,
            dport: p.reply ? 40000 : p.toVip ? 80 : 8080,
            flags: p.flags,
            seq: 1000,
            ack: p.flags & F.ACK ? 5001 : 0,
            payload: p.payload,
          });
          if (!p.inPlace || i === 0) {
            len = f.length;
            a.buf.set(f);
            b.buf.set(f);
          }
          if (p.corrupt) {
            a.buf[len - 1] = a.buf[len - 1]! ^ 0x10;
            b.buf[len - 1] = b.buf[len - 1]! ^ 0x10;
          }
          // A new packet: numbered anew (the executor's runFrame), or reset (which moves a number on); b's results are
          // reset as a plain caller's.
          if (p.byReset) a.res.reset();
          else {
            a.res.packet++;
            hideCt(a.res);
          }
          b.res.reset();
          decoder.decode(a.buf, a.d, len);
          for (const [j, c] of p.calls.entries()) {
            const where = `packet ${i}, call ${j}`;
            if (j > 0 && c.hide) {
              hideCt(a.res);
              hideCt(b.res);
            }
            if (j > 0 && a.d.status === 0 && a.d.l4Offset >= 0) {
              edit(a.buf, a.d, c);
              const db = new DecodedFrame();
              decoder.decode(b.buf, db, len);
              edit(b.buf, db, c);
            }
            request(a.req, c, p);
            request(b.req, c, p);
            const cleared = j > 0 && a.res.state === 0;
            const before = taken;
            a.ct.execute(a.buf, len, a.d, a.req, a.res, now);
            if (cleared && taken > before) reusedCleared++;
            // b: a fresh copy and decode every call, never the kept key.
            const copy = b.buf.slice(0, len);
            const db = new DecodedFrame();
            decoder.decode(copy, db, len);
            b.ct.execute(copy, len, db, b.req, b.res, now);
            b.buf.set(copy);
            calls++;
            expect(ctView(a.res), where).toEqual(ctView(b.res));
            expect([...a.buf.subarray(0, len)], where).toEqual([...b.buf.subarray(0, len)]);
            expect([...a.ct.counters], where).toEqual([...b.ct.counters]);
          }
          expect(a.ct.size).toBe(b.ct.size);
          expect(a.ct.connections(now)).toEqual(b.ct.connections(now));
        }
        reused += taken;
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // The property is about reuse: many later calls took the kept key, also after their ct_state was cleared.
    expect(reused).toBeGreaterThan(calls / 5);
    expect(reusedCleared).toBeGreaterThan(calls / 20);
    console.log(`engine-packet: ${calls} calls, ${reused} kept keys taken, ${reusedCleared} after a cleared ct_state`);
  });
});
