// The bit-exact agreement with OVS is test/select-group-ovs.test.ts (against ovs-vswitchd); these are the edges.
import { describe, expect, it } from 'vitest';
import { compileHashFields, dpHashBucket, hashFieldsBucket, SelectGroupError } from './select-group.js';

describe('select-group', () => {
  it('rejects hash_fields OVS would not accept, with a typed error', () => {
    expect(() => compileHashFields('ip_src,bogus')).toThrow(SelectGroupError);
    expect(() => compileHashFields('')).toThrow(SelectGroupError);
    expect(compileHashFields('tp_src')).toBe(compileHashFields('tcp_src'));
  });

  it('always picks a bucket in range, and the only one of a one-bucket group', () => {
    for (let rss = 0; rss < 2000; rss += 7) {
      for (let n = 1; n <= 40; n++) {
        const b = dpHashBucket(rss * 2654435761, n);
        expect(b >= 0 && b < n).toBe(true);
        if (n === 1) expect(b).toBe(0);
      }
    }
    expect(hashFieldsBucket(compileHashFields('ip_src'), false, [0x0a000001, 0, 0, 0, 0x0a000002], 0, 4, 6, 1, 2, 1)).toBe(0);
  });

  it('skips fields whose prerequisites fail: ip_src of an IPv6 packet leaves every packet in one bucket', () => {
    const f = compileHashFields('ip_src');
    const first = hashFieldsBucket(f, true, [1, 2, 3, 4, 5, 6, 7, 8], 0, 4, 6, 1, 2, 5);
    for (let i = 0; i < 50; i++) expect(hashFieldsBucket(f, true, [i, i * 3, 7, i, 1, 2, 3, 4], 0, 4, 17, i, 9, 5)).toBe(first);
  });
});
