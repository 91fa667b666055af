import fc from 'fast-check';
import { expect, it } from 'vitest';
import { AddressPortTable, LruTable } from './lru.js';

it('behaves like a Map that forgets the least recently written key beyond its limit', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.constantFrom('set', 'delete'), fc.integer({ min: 0, max: 12 })), { maxLength: 200 }), (limit, ops) => {
      const t = new LruTable<number, number>(limit);
      // The model: keys in write order, oldest first.
      const model: Array<[number, number]> = [];
      let evictions = 0;
      ops.forEach(([op, k], i) => {
        const at = model.findIndex(([key]) => key === k);
        if (op === 'delete') {
          t.delete(k);
          if (at >= 0) model.splice(at, 1);
          return;
        }
        t.set(k, i);
        if (at >= 0) model.splice(at, 1);
        else if (model.length >= limit) {
          model.shift();
          evictions++;
        }
        model.push([k, i]);
      });
      expect(t.size).toBe(model.length);
      for (let k = 0; k <= 12; k++) expect(t.get(k)).toBe(model.find(([key]) => key === k)?.[1]);
      expect(t.evictions).toBe(evictions);
    }),
    { numRuns: 500 },
  );
});

it('AddressPortTable behaves like a Map of (address, port) that forgets the least recently written key beyond its limit', () => {
  // Keys from a small set (IPv4-mapped and IPv6 addresses, a few ports) so that entries collide, are written
  // again, deleted and evicted; the table starts small so that it grows on the way.
  const addrs = [[0, 0, 0xffff, 0x0ab50001], [0, 0, 0xffff, 0x0ab50002], [0xfd000010, 0x01800000, 0, 0x100], [0xfd000010, 0x01800000, 0, 0x101], [0, 0, 0, 0]] as const;
  const key = fc.tuple(fc.integer({ min: 0, max: addrs.length - 1 }), fc.integer({ min: 0, max: 3 }));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.tuple(fc.constantFrom('set', 'set', 'delete'), key), { maxLength: 300 }), (limit, ops) => {
      const t = new AddressPortTable(limit, 2);
      const model: Array<[string, number]> = [];
      let evictions = 0;
      ops.forEach(([op, [ai, port]], i) => {
        const a = addrs[ai]!;
        const name = `${ai}/${port}`;
        const at = model.findIndex(([k]) => k === name);
        if (op === 'delete') {
          t.delete(t.find(a[0], a[1], a[2], a[3], port));
          if (at >= 0) model.splice(at, 1);
          return;
        }
        const s = t.insert(a[0], a[1], a[2], a[3], port);
        t.a[s] = i;
        t.b[s] = -i;
        if (at >= 0) model.splice(at, 1);
        else if (model.length >= limit) {
          model.shift();
          evictions++;
        }
        model.push([name, i]);
      });
      expect(t.size).toBe(model.length);
      expect(t.evictions).toBe(evictions);
      addrs.forEach((a, ai) => {
        for (let port = 0; port <= 3; port++) {
          const s = t.find(a[0], a[1], a[2], a[3], port);
          const m = model.find(([k]) => k === `${ai}/${port}`);
          expect(s < 0 ? undefined : [t.a[s], t.b[s]]).toEqual(m && [m[1], -m[1]]);
        }
      });
      // Write order, oldest first, with the keys as written.
      const key5 = new Uint32Array(5);
      const order = [...t.slots()].map((s) => {
        t.keyOf(s, key5);
        return `${addrs.findIndex((a) => a.every((w, i) => w >>> 0 === key5[i]))}/${key5[4]}`;
      });
      expect(order).toEqual(model.map(([k]) => k));
    }),
    { numRuns: 500 },
  );
});

it('AddressPortTable reads IPv4 and IPv6 keys from numbers and bytes alike', () => {
  const t = new AddressPortTable(4);
  const s4 = t.insert4(0x0ab50028, 40000);
  expect(t.find(0, 0, 0xffff, 0x0ab50028, 40000)).toBe(s4);
  const bytes = Uint8Array.from([0xfd, 0, 0, 0x10, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  const s6 = t.insert6(bytes, 0, 80);
  expect(t.find(0xfd000010, 0x01800000, 0, 0x100, 80)).toBe(s6);
  expect(t.find6(bytes, 0, 81)).toBe(-1);
  expect(() => new AddressPortTable(0)).toThrow(RangeError);
});
