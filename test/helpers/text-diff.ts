/**
 * The first line where two multi-line texts part, for a failing comparison's message: vippath's text against a real
 * program's (`theirs` names it).
 */
export function firstDifference(ours: string, real: string, theirs: string): string {
  const x = ours.split('\n');
  const y = real.split('\n');
  const pad = Math.max('vippath'.length, theirs.length) + 2;
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return `line ${i + 1}:\n  ${'vippath:'.padEnd(pad)}${x[i]}\n  ${`${theirs}:`.padEnd(pad)}${y[i]}`;
  return 'identical';
}
