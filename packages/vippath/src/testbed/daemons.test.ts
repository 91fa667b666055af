/**
 * The testbed's process records: a pid is signalled only while it is still the process recorded. A pid is reused once
 * its process is gone and reaped; the test makes "the recorded pid now runs another program" without waiting for the
 * kernel to wrap around pid_max: it records one `sleep`, lets it exit, and checks the record against a second `sleep`
 * under the first one's pid — the start time the kernel gave the first is not the second's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { recordProcess, runsWithArg, signalRecorded, stillRunning, type ProcessRecord } from './daemons.js';

const linux = existsSync('/proc/self/stat');
const children: ChildProcess[] = [];
function sleeper(...args: string[]): ChildProcess {
  const c = spawn('sleep', ['30', ...args], { stdio: 'ignore' });
  children.push(c);
  return c;
}
const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r())));
/** Waits until the kernel's start time (clock ticks) moves past `rec`'s, so a second process cannot share it. */
async function nextTick(rec: ProcessRecord): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync('cut', ['-d', ' ', '-f22', '/proc/self/stat'], { encoding: 'utf8' }).stdout.trim();
    if (BigInt(probe) > BigInt(rec.start!)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exited(c);
  }
});

describe.skipIf(!linux)('process records (pid reuse)', () => {
  it('signals the recorded process while it runs', async () => {
    const a = sleeper();
    const rec = recordProcess(a.pid!)!;
    expect(rec.start).toMatch(/^\d+$/);
    expect(stillRunning(rec)).toBe(true);
    expect(signalRecorded(rec, 'SIGTERM')).toBe(true);
    await exited(a);
    expect(a.signalCode).toBe('SIGTERM');
    expect(stillRunning(rec)).toBe(false);
    expect(signalRecorded(rec, 'SIGTERM')).toBe(false);
  });

  it('never signals a recorded pid whose process is now another program', async () => {
    const a = sleeper();
    const recA = recordProcess(a.pid!)!;
    a.kill('SIGKILL');
    await exited(a);
    await nextTick(recA);
    const b = sleeper();
    // recA's pid taken by b: the pid b has, the start time a had.
    const reused: ProcessRecord = { pid: b.pid!, start: recA.start };
    expect(stillRunning(reused)).toBe(false);
    expect(signalRecorded(reused, 'SIGKILL')).toBe(false);
    expect(signalRecorded(reused, 'SIGTERM')).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect({ b: b.exitCode ?? b.signalCode }).toEqual({ b: null });
    expect(stillRunning(recordProcess(b.pid!)!)).toBe(true);
  });

  it('a zombie counts as gone: not recorded, not running, not signalled', async () => {
    // The exec'd sleep never reaps its child `true`: a zombie whose pid the shell printed.
    const c = spawn('sh', ['-c', 'true & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(c);
    const zpid = Number(await new Promise<string>((r) => c.stdout!.once('data', (d: Buffer) => r(d.toString()))));
    for (let i = 0; i < 100 && recordProcess(zpid); i++) await new Promise((r) => setTimeout(r, 10));
    expect(recordProcess(zpid)).toBeUndefined();
    const parent = recordProcess(c.pid!)!;
    expect(stillRunning({ pid: zpid, start: parent.start })).toBe(false);
    expect(signalRecorded({ pid: zpid, start: parent.start }, 'SIGTERM')).toBe(false);
  });

  it("a pidfile's pid is taken for the daemon only while that process carries the --pidfile argument", async () => {
    // The shell stays (a command follows sleep): its arguments hold the option, as a daemon's do.
    const daemon = spawn('sh', ['-c', 'sleep 30; :', '--pidfile=/nonexistent/x.pid'], { stdio: 'ignore' });
    children.push(daemon);
    const other = sleeper();
    expect(runsWithArg(daemon.pid!, '--pidfile=/nonexistent/x.pid')).toBe(true);
    expect(runsWithArg(other.pid!, '--pidfile=/nonexistent/x.pid')).toBe(false);
    daemon.kill('SIGKILL');
    await exited(daemon);
    expect(runsWithArg(daemon.pid!, '--pidfile=/nonexistent/x.pid')).toBe(false);
  });
});
