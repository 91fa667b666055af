import fc from 'fast-check';
import { DecodedFrame, plainTcp4, readPlainTcp4Addresses } from './decoder.js';
import { expect, it } from 'vitest';
import { plainTcp4At14, readTaggedTcp4Addresses } from './tagged-tcp4.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);

/** The fields readPlainTcp4Addresses writes (PLAIN_TCP4_ADDRESS_FIELDS and status). */
const FIELDS = ['status', 'l3', 'l3Offset', 'ipSrc', 'ipDst', 'ipProto', 'l4Offset', 'l4Length', 'dstPort'] as const;

/** A decode whose fields all hold values no read writes, so that "untouched" shows. */
function marked(): DecodedFrame {
  const d = new DecodedFrame();
  for (const f of FIELDS) (d as unknown as Record<string, number>)[f] = -7;
  return d;
}

const fieldsOf = (d: DecodedFrame): number[] => FIELDS.map((f) => d[f] as number);

// Each byte the layout check reads: its value for the accepted layout, and values just off it (a bit of the
// masked fields flipped, the neighbours of the limits) beside any byte.
const byteOr = (good: number, near: number[]): fc.Arbitrary<number> => fc.oneof({ weight: 24, arbitrary: fc.constant(good) }, { weight: 2, arbitrary: fc.constantFrom(...near) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });

// The bytes both layouts' checks read, each near its accepted value (the same fields at the layout's own offsets).
const layoutFields = {
  typeHi: byteOr(0x08, [0x86, 0x81, 0x09]),
  typeLo: byteOr(0x00, [0x06, 0xdd, 0x01]),
  verIhl: byteOr(0x45, [0x46, 0x44, 0x55, 0x65, 0x4f]),
  // Flags and fragment offset: DF and the reserved bit are not read; MF and any offset bit refuse.
  flagsHi: byteOr(0x40, [0x00, 0x80, 0xc0, 0x20, 0x01, 0x10, 0x60]),
  flagsLo: byteOr(0x00, [0x01, 0x80, 0xff]),
  proto: byteOr(6, [17, 1, 7, 0x86]),
  // The total length relative to the frame's: fitting, one over, too short for two headers.
  total: fc.oneof(fc.integer({ min: 0, max: 140 }), fc.integer({ min: 38, max: 42 })),
  totalFits: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
  dataOffset: fc.oneof(fc.integer({ min: 0, max: 15 }), { weight: 3, arbitrary: fc.integer({ min: 5, max: 8 }) }),
};

/** The layout's drawn bytes written around an IPv4 header at `l3`: the EtherType before it, version/IHL, flags, protocol. */
const writeLayout = (buf: Uint8Array, l3: number, g: { typeHi: number; typeLo: number; verIhl: number; flagsHi: number; flagsLo: number; proto: number }): void => {
  buf[l3 - 2] = g.typeHi;
  buf[l3 - 1] = g.typeLo;
  buf[l3] = g.verIhl;
  buf[l3 + 6] = g.flagsHi;
  buf[l3 + 7] = g.flagsLo;
  buf[l3 + 9] = g.proto;
};

const frameArb = fc.record({
  bytes: fc.uint8Array({ minLength: 128, maxLength: 128 }),
  length: fc.oneof(fc.integer({ min: 0, max: 128 }), fc.integer({ min: 56, max: 60 }), { weight: 3, arbitrary: fc.integer({ min: 58, max: 128 }) }),
  tpidHi: byteOr(0x81, [0x80, 0x88, 0x08, 0x91]),
  tpidLo: byteOr(0x00, [0x01, 0xa8, 0x80]),
  ...layoutFields,
  // Now and then the untagged layout readPlainTcp4Addresses reads at 14 (the fast read refuses it).
  untagged: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
});

it(`readTaggedTcp4Addresses accepts what readPlainTcp4Addresses reads at 18, writes the same fields, touches nothing else (seed ${seed})`, () => {
  console.log(`tagged-tcp4 property: seed ${seed} (VIPPATH_PROPERTY_SEED)`);
  let taken = 0;
  let refused = 0;
  let untagged = 0;
  fc.assert(
    fc.property(frameArb, (g) => {
      const buf = new Uint8Array(g.bytes);
      buf[12] = g.tpidHi;
      buf[13] = g.tpidLo;
      writeLayout(buf, 18, g);
      // Near the frame's own: two under to one over what its length holds after the tag.
      const total = g.totalFits ? Math.max(0, g.length - 20 + (g.total % 4)) : g.total;
      buf[20] = total >> 8;
      buf[21] = total & 0xff;
      buf[50] = (g.dataOffset << 4) | (buf[50]! & 15);
      if (g.untagged) {
        buf.set([0x08, 0x00, 0x45], 12);
        buf.set([total >> 8, total & 0xff], 16);
        buf.set([0x40, 0x00], 20);
        buf[23] = 6;
        buf[46] = 0x50;
      }
      const general = marked();
      const fast = marked();
      const at = readPlainTcp4Addresses(buf, g.length, general);
      const took = readTaggedTcp4Addresses(new DataView(buf.buffer), g.length, fast);
      expect(took).toBe(at === 18);
      if (took) {
        taken++;
        expect(fieldsOf(fast)).toEqual(fieldsOf(general));
      } else {
        if (at === 14) untagged++;
        else refused++;
        expect(fieldsOf(fast)).toEqual(fieldsOf(marked()));
      }
    }),
    { seed, numRuns: 4000 },
  );
  // Not vacuous: both answers came often.
  expect(taken).toBeGreaterThan(200);
  expect(refused).toBeGreaterThan(200);
  expect(untagged).toBeGreaterThan(0);
});

// The untagged layout at 14, as the switch's answers come: each byte plainTcp4 reads there near its accepted value.
const untaggedArb = fc.record({
  bytes: fc.uint8Array({ minLength: 54, maxLength: 128 }),
  cut: fc.nat(),
  ...layoutFields,
  // Now and then a tag at 12 (plainTcp4 then reads at 18: never 14).
  tagged: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
});

it(`plainTcp4At14 is plainTcp4's 14, for lengths up to the array's (seed ${seed})`, () => {
  console.log(`plainTcp4At14 property: seed ${seed} (VIPPATH_PROPERTY_SEED)`);
  let yes = 0;
  let no = 0;
  fc.assert(
    fc.property(untaggedArb, (g) => {
      const buf = new Uint8Array(g.bytes);
      // Any length up to the array's, mostly from 54 on.
      const len = g.cut % 4 === 0 ? g.cut % (buf.length + 1) : 54 + (g.cut % (buf.length - 53));
      writeLayout(buf, 14, g);
      const total = g.totalFits ? Math.max(0, len - 16 + (g.total % 4)) : g.total;
      buf[16] = total >> 8;
      buf[17] = total & 0xff;
      buf[46] = (g.dataOffset << 4) | (buf[46]! & 15);
      if (g.tagged) buf.set([0x81, 0x00], 12);
      const general = plainTcp4(buf, len) === 14;
      expect(plainTcp4At14(new DataView(buf.buffer), len)).toBe(general);
      if (general) yes++;
      else no++;
    }),
    { seed, numRuns: 4000 },
  );
  expect(yes).toBeGreaterThan(200);
  expect(no).toBeGreaterThan(200);
});
