/**
 * Fuzz budgets: CI runs the base count; `VIPPATH_FUZZ_SCALE=<n>` multiplies it for a long local run.
 * `VIPPATH_FUZZ_SEED=<n>|random` picks the seed (default fixed); every suite prints what it ran.
 */
export const scale = Math.max(1, Number(process.env.VIPPATH_FUZZ_SCALE ?? 1));
export const seed = process.env.VIPPATH_FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_FUZZ_SEED ?? 20261124);

export function budget(base: number): number {
  return Math.round(base * scale);
}

export function announce(suite: string, runs: number, what: string): void {
  console.log(`fuzz ${suite}: ${runs} ${what}, seed ${seed} (VIPPATH_FUZZ_SEED=${seed} VIPPATH_FUZZ_SCALE=${scale} reproduces)`);
}
