import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressFormatError, formatIPv4, formatIPv6, formatIPv6Ntop, formatMac, parseIPv4, parseIPv6, parseMac, writeIPv4Text, writeIPv6Text } from './addresses.js';
import { internetChecksum, pseudoHeaderSumV4, verifyL4Checksum, foldSum } from './checksum.js';
import * as A from './arbitraries.test-helpers.js';

describe('addresses', () => {
  it('round-trip MAC, IPv4 and IPv6 text', () => {
    fc.assert(
      fc.property(A.macArb, A.u32Arb, A.ipv6BytesArb, (mac, v4, v6) => {
        expect(formatMac(parseMac(mac))).toBe(mac);
        expect(parseIPv4(formatIPv4(v4))).toBe(v4);
        expect(Array.from(parseIPv6(formatIPv6(v6)))).toEqual(Array.from(v6));
      }),
      { numRuns: 500 },
    );
  });

  it('writes the same text as bytes (writeIPv4Text, writeIPv6Text) as formatIPv4/formatIPv6 give, and nothing beyond it', () => {
    fc.assert(
      fc.property(A.u32Arb, A.ipv6BytesArb, fc.integer({ min: 0, max: 8 }), (v4, v6, at) => {
        const buf = new Uint8Array(64).fill(0xee);
        const end4 = writeIPv4Text(buf, at, v4);
        expect(Buffer.from(buf.subarray(at, end4)).toString('latin1')).toBe(formatIPv4(v4));
        expect(buf[end4]).toBe(0xee);
        for (let i = 0; i < at; i++) expect(buf[i]).toBe(0xee);
        // Each octet's digit count (1–3) at each of the four places: the octets written out one by one.
        for (const o of [0, 9, 10, 99, 100, 255]) {
          for (let k = 0; k < 4; k++) {
            const ip = ((v4 & ~(0xff << (8 * k))) | (o << (8 * k))) >>> 0;
            buf.fill(0xee);
            const end = writeIPv4Text(buf, at, ip);
            expect(Buffer.from(buf.subarray(at, end)).toString('latin1')).toBe(formatIPv4(ip));
            expect(buf[end]).toBe(0xee);
          }
        }
        // The source may sit in the same array as the text.
        buf.fill(0xee);
        buf.set(v6, 48);
        const end6 = writeIPv6Text(buf, at, buf, 48);
        expect(Buffer.from(buf.subarray(at, end6)).toString('latin1')).toBe(formatIPv6(v6));
        expect(end6 <= 48 && (end6 === 48 || buf[end6] === 0xee)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("formats IPv6 as glibc's inet_ntop (formatIPv6Ntop): IPv4-compatible and -mapped addresses dotted, the rest as formatIPv6", () => {
    // glibc inet_ntop's texts (test/ipv6-text.test.ts checks formatIPv6Ntop against it on generated addresses).
    const glibc: [string, string][] = [
      ['::a00:1', '::10.0.0.1'],
      ['::1:1', '::0.1.0.1'],
      ['::ffff:a00:2', '::ffff:10.0.0.2'],
      ['::ffff:0:0', '::ffff:0.0.0.0'],
      ['::1', '::1'],
      ['::', '::'],
      ['::1:0:a00:1', '::1:0:a00:1'],
      ['0:0:0:0:0:1:0:0', '::1:0:0'],
      ['::ffff:1:0:0', '::ffff:1:0:0'],
      ['fd00::a00:1', 'fd00::a00:1'],
    ];
    for (const [addr, text] of glibc) expect({ addr, text: formatIPv6Ntop(parseIPv6(addr)) }).toEqual({ addr, text });
    fc.assert(
      fc.property(A.ipv6BytesArb, (v6) => {
        const head = v6.subarray(0, 10).every((b) => b === 0);
        const embedded = head && ((v6[10] === 0 && v6[11] === 0 && (v6[12] !== 0 || v6[13] !== 0)) || (v6[10] === 0xff && v6[11] === 0xff));
        if (!embedded) expect(formatIPv6Ntop(v6)).toBe(formatIPv6(v6));
        else expect(Array.from(parseIPv6(formatIPv6Ntop(v6)))).toEqual(Array.from(v6));
      }),
      { numRuns: 500 },
    );
  });

  it('formats IPv6 canonically (RFC 5952 §4)', () => {
    const canon = (t: string): string => formatIPv6(parseIPv6(t));
    expect(canon('2001:0db8:0000:0000:0000:0000:0002:0001')).toBe('2001:db8::2:1');
    expect(canon('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // a single 0 group is not compressed
    expect(canon('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // first of equal runs
    expect(canon('2001:DB8::1')).toBe('2001:db8::1');
    expect(canon('::')).toBe('::');
    expect(canon('::ffff:10.180.204.252')).toBe('::ffff:ab4:ccfc');
    expect(canon('fe80::')).toBe('fe80::');
  });

  it('rejects malformed text with a typed error', () => {
    for (const bad of ['10.180.204', '10.180.204.256', '010.1.1.1', 'a.b.c.d', '']) expect(() => parseIPv4(bad)).toThrow(AddressFormatError);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7', ':::']) expect(() => parseIPv6(bad)).toThrow(AddressFormatError);
    for (const bad of ['52:54:00:aa:00', '52:54:00:aa:00:6g', '525400aa0064']) expect(() => parseMac(bad)).toThrow(/not a valid MAC/);
  });
});

describe('checksums', () => {
  it('matches the RFC 1071 §3 worked example', () => {
    // Bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (folded); the checksum is its complement.
    const data = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(internetChecksum(data, 0, data.length)).toBe(~0xddf2 & 0xffff);
  });

  it('recognises offload-partial checksums (pseudo-header sum only) as partial, not bad', () => {
    const seg = new Uint8Array(20);
    seg[12] = 0x50;
    const pseudo = pseudoHeaderSumV4(parseIPv4('10.0.0.1'), parseIPv4('10.0.0.2'), 6, 20);
    const partial = foldSum(pseudo);
    seg[16] = partial >> 8;
    seg[17] = partial & 0xff;
    expect(verifyL4Checksum(seg, 0, 20, 16, pseudo)).toBe('partial');
    seg[17] ^= 1;
    expect(verifyL4Checksum(seg, 0, 20, 16, pseudo)).toBe('bad');
  });
});
