import fc from 'fast-check';
import { expect, it } from 'vitest';
import { LruTable } from './lru.js';

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
