// The executor's segment hints by their definitions, for the tests that check the executor's fast forms against them.

/** The residual by its definition: `probe`'s triples that the bits `known` do not decide, padded as a probe is. */
export function residualOf(probe: Int32Array, known: Int32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < probe.length; i += 3) {
    const [w, m, v] = [probe[i]!, probe[i + 1]!, probe[i + 2]!];
    let km = 0;
    let kv = 0;
    for (let j = 0; j < known.length; j += 3) if (known[j] === w) [km, kv] = [known[j + 1]!, known[j + 2]!];
    if ((m & ~km) === 0 && (kv & m) === v) continue;
    out.push(w, m, v);
  }
  while (out.length % 12 !== 0) out.push(0, 0, 0);
  return out;
}
