/**
 * IPv6 addresses biased to where RFC 5952 text and glibc's inet_ntop text part or nearly part: IPv4-compatible
 * (`::a.b.c.d`, the first six groups zero) and -mapped (`::ffff:a.b.c.d`) addresses and their near misses, zero runs
 * of equal length (which run `::` takes), a single zero group (never `::`), all zeros, `::1`; and, as
 * spellings for the tools' input, the same address written several ways.
 */
import fc from 'fast-check';
import { formatIPv6, formatIPv6Ntop } from '@vippath/wire';

const fromGroups = (g: readonly number[]): Uint8Array => {
  const b = new Uint8Array(16);
  g.forEach((w, i) => {
    b[2 * i] = w >> 8;
    b[2 * i + 1] = w & 0xff;
  });
  return b;
};

const group = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0, 1, 0xffff, 0xa00, 0x100, 0xfe80));
const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }));

/** IPv4-compatible: `::a.b.c.d` in inet_ntop (the seventh group nonzero). */
export const ipv6CompatArb: fc.Arbitrary<Uint8Array> = fc.tuple(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => fromGroups([0, 0, 0, 0, 0, 0, a, b]));
/** IPv4-mapped: `::ffff:a.b.c.d` in inet_ntop. */
export const ipv6MappedArb: fc.Arbitrary<Uint8Array> = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => fromGroups([0, 0, 0, 0, 0, 0xffff, a, b]));
/** `::x`, x > 1: hex in glibc's inet_ntop, dotted in BIND's (`::0.0.0.2`). */
export const ipv6LowArb: fc.Arbitrary<Uint8Array> = fc.integer({ min: 2, max: 0xffff }).map((x) => fromGroups([0, 0, 0, 0, 0, 0, 0, x]));
/** Either: an address inet_ntop prints dotted. */
export const ipv6DottedArb: fc.Arbitrary<Uint8Array> = fc.oneof(ipv6CompatArb, ipv6MappedArb);

export const ipv6CornerArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  // IPv4-compatible: the seventh group zero too now and then (then no dotted form: `::1`, `::a00`).
  fc.tuple(fc.oneof(v4, fc.tuple(fc.constant(0), fc.integer({ min: 0, max: 0xffff })))).map(([[a, b]]) => fromGroups([0, 0, 0, 0, 0, 0, a, b])),
  // IPv4-mapped, and its near misses (0xfffe, a nonzero group before, a zero run after).
  fc.tuple(v4, fc.constantFrom(0xffff, 0xffff, 0xfffe, 0), fc.constantFrom(0, 0, 0, 1)).map(([[a, b], g5, g4]) => fromGroups([0, 0, 0, 0, g4, g5, a, b])),
  // Zero runs of equal length (two runs of 2 or 3), a lone zero group, all zeros, ::1.
  fc.tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 2, max: 3 }), fc.integer({ min: 0, max: 6 })).map(([g, at, len, at2]) => {
    const w = g.map((x) => x || 1);
    for (let i = at; i < Math.min(8, at + len); i++) w[i] = 0;
    for (let i = at2; i < Math.min(8, at2 + len); i++) w[i] = 0;
    return fromGroups(w);
  }),
  fc.tuple(fc.array(fc.integer({ min: 1, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 })).map(([g, at]) => fromGroups(g.map((x, i) => (i === at ? 0 : x)))),
  fc.constantFrom(fromGroups([0, 0, 0, 0, 0, 0, 0, 0]), fromGroups([0, 0, 0, 0, 0, 0, 0, 1]), fromGroups([0xfe80, 0, 0, 0, 0, 0, 0, 1]), fromGroups([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0])),
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xfe80), { minLength: 8, maxLength: 8 }).map(fromGroups),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);

/** One way to write `b` as input: RFC 5952, inet_ntop's, all eight groups, or upper case. */
export const spell = (b: Uint8Array, how: number): string => {
  switch (how % 4) {
    case 0:
      return formatIPv6(b);
    case 1:
      return formatIPv6Ntop(b);
    case 2:
      return Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(':');
    default:
      return formatIPv6(b).toUpperCase();
  }
};
