/**
 * Counts as the report prints them: `n.toLocaleString('en')` (1,234,567), written out for whole numbers. The
 * first `toLocaleString` of a process sets up ICU's number formatting, ≈ 40 ms of CPU — a fifth of the README's
 * main job (`vippath replay … --report`) on its 50-frame capture (bench/README "A small capture, start to
 * finish"). Other numbers (fractions, −0, ±∞, NaN, beyond 2^53) keep `toLocaleString`; number-text.test.ts
 * checks both against it. Not exported from the package.
 */
export function countText(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en');
  const digits = String(n < 0 ? -n : n);
  // Groups of three from the right; the first group is what is left over (1 to 3 digits).
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
