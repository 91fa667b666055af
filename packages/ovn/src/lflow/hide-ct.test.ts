/**
 * frame-sync.ts `hideCtFirst` (executor.ts's ctCommit on a chassis, on the walk's first words — the executors' first
 * pool slot: eight of hideCt's nineteen stores as doubles) against the words executor.ts's `hideCt` zeroes — ct_state, ct_mark, ct_label's four words, the
 * ct tuple's thirteen, listed here by name — on words that hold anything: those 0, every other word as it was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { W } from './fields.js';
import { FIRST_WORDS, hideCtFirst } from './frame-sync.js';

const CT_WORDS = [W.CT_STATE, W.CT_MARK, W.CT_LABEL, W.CT_LABEL + 1, W.CT_LABEL + 2, W.CT_LABEL + 3, W.CT_NW_DST, W.CT_IPV6_DST, W.CT_IPV6_DST + 1, W.CT_IPV6_DST + 2, W.CT_IPV6_DST + 3, W.CT_TP_DST, W.CT_NW_SRC, W.CT_IPV6_SRC, W.CT_IPV6_SRC + 1, W.CT_IPV6_SRC + 2, W.CT_IPV6_SRC + 3, W.CT_TP_SRC, W.CT_NW_PROTO];

describe('hideCtFirst', () => {
  it('leaves the words as hideCt does: the ct fields 0, every other word untouched', () => {
    const w = FIRST_WORDS;
    fc.assert(
      fc.property(fc.uint32Array({ minLength: W.SIZE, maxLength: W.SIZE }), (junk) => {
        w.set(junk);
        hideCtFirst();
        for (let i = 0; i < W.SIZE; i++) expect(w[i], `word ${i}`).toBe(CT_WORDS.includes(i) ? 0 : junk[i]);
      }),
      { seed: 20261206, numRuns: 200 },
    );
  });
});
