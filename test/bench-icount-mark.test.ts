// bench/icount.mjs's marked replay-loop run (a pair's run: it stops at the mark until callgrind's dump is taken) must
// not cost the measured loop its optimized code: the mark's call site is primed, so V8 throws the loop's code away no
// more often with the mark than without it (bench/README "What V8 compiles in the window (session 40)").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

/**
 * Deoptimizations of the replay loop's function (bench/replay-loop.mjs `replay`) in one driver run, with the pair's
 * synchronous compile (the same code at the same frames from run to run).
 */
function replayDeopts(mark: number | undefined): number {
  const dir = mkdtempSync(join(tmpdir(), 'icount-mark-'));
  try {
    const env = { ...process.env };
    delete env.VIPPATH_ICOUNT_MARK;
    if (mark !== undefined) {
      // A regular file where the pair makes a FIFO: the wait at the mark reads it and goes on at once.
      writeFileSync(join(dir, 's.go'), 'go');
      env.VIPPATH_ICOUNT_MARK = `${mark}:${join(dir, 's')}`;
    }
    const r = spawnSync(process.execPath, ['--trace-deopt', '--no-concurrent-recompilation', join(ROOT, 'bench/icount.mjs'), '--driver', 'replay-loop', ROOT, '12000', '12000'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter((l) => l.includes('deoptimizing') && l.includes('<JSFunction replay ')).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('bench icount marked run', () => {
  it('the mark throws none of the loop’s code away', () => {
    const plain = replayDeopts(undefined);
    expect(replayDeopts(9000)).toBe(plain);
  }, 120_000);
});
