import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSink } from '@vippath/pcap';
import { onInterrupt, type RunState } from './interrupt.js';

const dir = mkdtempSync(join(tmpdir(), 'vippath-interrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the handler once; what it did. */
function signal(state: RunState, name: 'SIGINT' | 'SIGTERM' = 'SIGTERM'): { exit: number | undefined; said: string } {
  let exit: number | undefined;
  let said = '';
  onInterrupt(name, name === 'SIGINT' ? 130 : 143, state, (c) => void (exit = c), (s) => void (said += s));
  return { exit, said };
}

// One process's story, in order (the publish flag is the process's, as in the CLI).
describe('SIGINT/SIGTERM during a command', () => {
  const out = join(dir, 'summary.json');
  writeFileSync(out, 'earlier\n');

  it('before anything is published: the unfinished output removed, the earlier one kept, 128 + n', () => {
    const sink = fileSink(out, { commitOnClose: false });
    sink.write(new TextEncoder().encode('new, unfinished'));
    const r = signal({ finished: undefined, deferred: false }, 'SIGINT');
    expect(r.exit).toBe(130);
    expect(r.said).toMatch(/interrupted \(SIGINT\); 1 unfinished output file\(s\) removed/);
    expect(readdirSync(dir)).toEqual(['summary.json']);
    expect(readFileSync(out, 'utf8')).toBe('earlier\n');
    sink.abort();
  });

  it('after the outputs are published, before the command returns: the run goes on (a second signal ends it)', async () => {
    const sink = fileSink(out, { commitOnClose: false });
    sink.write(new TextEncoder().encode('new\n'));
    await sink.close();
    // Closed but not renamed: still unfinished.
    expect(signal({ finished: undefined, deferred: false }).exit).toBe(143);
    expect(readFileSync(out, 'utf8')).toBe('earlier\n');

    const again = fileSink(out, { commitOnClose: false });
    again.write(new TextEncoder().encode('new\n'));
    await again.close();
    again.commit();
    expect(readFileSync(out, 'utf8')).toBe('new\n');
    const state: RunState = { finished: undefined, deferred: false };
    const first = signal(state);
    expect(first.exit).toBeUndefined();
    expect(first.said).toBe('');
    expect(existsSync(out)).toBe(true);
    expect(signal(state).exit).toBe(143);
  });

  it('after the command returned: its own status', () => {
    expect(signal({ finished: 0, deferred: false }).exit).toBe(0);
    expect(signal({ finished: 1, deferred: true }, 'SIGINT').exit).toBe(1);
  });

  it('a new output being written after one was published is unfinished again: interrupted', () => {
    const sink = fileSink(join(dir, 'report.html'), { commitOnClose: false });
    sink.write(new TextEncoder().encode('<html>'));
    const r = signal({ finished: undefined, deferred: false });
    expect(r.exit).toBe(143);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });
});
