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

it('an ipv4 AddressPortTable (two key words a slot, 32-bit values) answers as a full one, IPv6 keys never found', () => {
  // The same operations on both: every find, slot value, write order, key read back and eviction count equal. Keys
  // from few addresses and ports so that they collide, are written again, deleted and evicted; it starts at 2 slots
  // so that it grows (the narrow keys copied) on the way. Values 32-bit, as the pods' sequence numbers.
  const addrs = [0x0ab50001, 0x0ab50002, 0xc0a80001, 0xffffffff, 0] as const;
  const key = fc.tuple(fc.integer({ min: 0, max: addrs.length - 1 }), fc.integer({ min: 0, max: 3 }));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.tuple(fc.constantFrom('set', 'set', 'delete'), key, fc.nat()), { maxLength: 300 }), (limit, ops) => {
      const wide = new AddressPortTable(limit, 2);
      const narrow = new AddressPortTable(limit, 2, true);
      for (const [op, [ai, port], v] of ops) {
        const ip = addrs[ai]!;
        if (op === 'delete') {
          expect(narrow.find4(ip, port)).toBe(wide.find4(ip, port));
          wide.delete(wide.find4(ip, port));
          narrow.delete(narrow.find4(ip, port));
          continue;
        }
        const s = wide.insert4(ip, port);
        expect(narrow.insert4(ip, port)).toBe(s);
        wide.a[s] = v >>> 0;
        narrow.a[s] = v >>> 0;
        wide.b[s] = (v * 7 + 1) >>> 0;
        narrow.b[s] = (v * 7 + 1) >>> 0;
      }
      expect(narrow.size).toBe(wide.size);
      expect(narrow.evictions).toBe(wide.evictions);
      for (const ip of addrs) {
        for (let port = 0; port <= 3; port++) {
          const s = wide.find4(ip, port);
          expect(narrow.find(0, 0, 0xffff, ip, port)).toBe(s);
          if (s >= 0) expect([narrow.a[s], narrow.b[s]]).toEqual([wide.a[s], wide.b[s]]);
          // The same low word under an IPv6 address is another key: not in an IPv4 table.
          expect(narrow.find(0xfd000010, 0, 0, ip, port)).toBe(-1);
        }
      }
      const k1 = new Uint32Array(5);
      const k2 = new Uint32Array(5);
      expect([...narrow.slots()]).toEqual([...wide.slots()]);
      for (const s of wide.slots()) {
        wide.keyOf(s, k1);
        narrow.keyOf(s, k2);
        expect([...k2]).toEqual([...k1]);
      }
    }),
    { numRuns: 300 },
  );
  expect(() => new AddressPortTable(4, 2, true).insert(0xfd000010, 0, 0, 1, 80)).toThrow(RangeError);
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

it("AddressPortTable's insert after a find's miss (the hash and position taken from the miss) agrees with a Map", () => {
  // Finds, inserts and deletes over few keys that collide, alone or as the sequences that matter: an insert of the
  // key the last find missed takes that find's hash and position unless the table was written in between (a
  // deletion shifts positions, an insert fills one) or the insert evicts or doubles first. Each inserted key is
  // looked up at once (a slot placed where a probe cannot reach it fails there), every key at the end (not between:
  // a lookup that misses is a miss the next insert could take). The corners reached are counted.
  // Addresses that differ in one word only (the last, the first, the mapped prefix): a miss's key is compared whole.
  const addrs = [[0, 0, 0xffff, 0x0ab50001], [0, 0, 0xffff, 0x0ab50002], [0xfd000010, 0x01800000, 0, 0x100], [0xfd000011, 0x01800000, 0, 0x100], [0, 0, 0, 0x0ab50001], [0xfd000010, 0x01800001, 0, 0x100]] as const;
  const key = fc.tuple(fc.integer({ min: 0, max: addrs.length - 1 }), fc.integer({ min: 0, max: 2 }));
  const kinds = ['find', 'set', 'delete', 'find-set', 'find-delete-set', 'find-set-set'] as const;
  const corners = { memo: 0, memoEvicts: 0, memoGrows: 0, missThenDelete: 0, missThenInsert: 0 };
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.constantFrom(...kinds), key, key), { maxLength: 100 }), (limit, ops) => {
      const t = new AddressPortTable(limit, 2);
      const model: string[] = [];
      // The key the last find missed, and what has been written to the table since.
      let missed: string | undefined;
      let since: 'nothing' | 'delete' | 'insert' = 'nothing';
      const find = ([ai, port]: [number, number]): number => {
        const a = addrs[ai]!;
        const s = t.find(a[0], a[1], a[2], a[3], port);
        expect(s >= 0).toBe(model.includes(`${ai}/${port}`));
        if (s < 0) {
          missed = `${ai}/${port}`;
          since = 'nothing';
        }
        return s;
      };
      const del = (k: [number, number]): void => {
        const s = find(k);
        if (s < 0) return;
        t.delete(s);
        model.splice(model.indexOf(`${k[0]}/${k[1]}`), 1);
        since = 'delete';
      };
      const set = ([ai, port]: [number, number]): void => {
        const a = addrs[ai]!;
        const name = `${ai}/${port}`;
        const at = model.indexOf(name);
        if (missed === name && at < 0) {
          if (since === 'nothing') {
            corners.memo++;
            if (model.length >= limit) corners.memoEvicts++;
            else if (model.length === (t as unknown as { capacity: number }).capacity) corners.memoGrows++;
          } else if (since === 'delete') corners.missThenDelete++;
          else corners.missThenInsert++;
        }
        const s = t.insert(a[0], a[1], a[2], a[3], port);
        expect(t.find(a[0], a[1], a[2], a[3], port)).toBe(s);
        if (at >= 0) model.splice(at, 1);
        else if (model.length >= limit) model.shift();
        model.push(name);
        since = 'insert';
      };
      for (const [kind, k, other] of ops) {
        if (kind === 'find') find(k);
        else if (kind === 'set') set(k);
        else if (kind === 'delete') del(k);
        else {
          find(k);
          if (kind === 'find-delete-set') del(other);
          else if (kind === 'find-set-set') set(other);
          set(k);
        }
        expect(t.size).toBe(model.length);
      }
      addrs.forEach((w, wi) => {
        for (let p = 0; p <= 2; p++) expect(t.find(w[0], w[1], w[2], w[3], p) >= 0).toBe(model.includes(`${wi}/${p}`));
      });
      const key5 = new Uint32Array(5);
      const order = [...t.slots()].map((s) => {
        t.keyOf(s, key5);
        return `${addrs.findIndex((w) => w.every((x, i) => x >>> 0 === key5[i]))}/${key5[4]}`;
      });
      expect(order).toEqual(model);
    }),
    { numRuns: 400 },
  );
  for (const [corner, n] of Object.entries(corners)) expect(n, corner).toBeGreaterThan(0);
});
