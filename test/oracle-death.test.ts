/**
 * A real-OVS oracle's daemon that dies says how (test/ovs-harness.ts over the testbed's Daemons): ovs-vswitchd runs
 * under OVS's `--monitor`, whose line on the death — signal, core dumped or not — the harness's error carries with the
 * log's end and the last commands sent. A daemon the monitor restarts after a crash is never used as if it were the
 * one started, and stopping the oracle stops it and its monitor, by their recorded pids.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OvsOracle, ovsUnavailable } from './ovs-harness.js';
import { Daemons, processRunning } from './oracle-process.js';

const unavailable = ovsUnavailable();

/** The oracle's monitor if it still runs, and every running process whose arguments name its run directory. */
function left(dir: string, monitor: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((p) => {
      try {
        return (p === monitor || readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(dir)) && processRunning(p);
      } catch {
        return false;
      }
    });
}

describe.skipIf(unavailable !== undefined)('an oracle daemon that dies explains itself', () => {
  for (const [signal, word] of [
    ['SIGSEGV', /ovs-vswitchd \(pid (\d+)\) died: 1 crashes: pid \1 died, killed \(Segmentation fault\)(, core dumped)?, restarting(; its monitor restarted it as pid \d+)?;/],
    ['SIGKILL', /ovs-vswitchd \(pid (\d+)\) died: pid \1 died, killed \(Killed\), exiting/],
  ] as const) {
    it(`${signal}: the error names the signal, the log's end and the last packets sent; a restarted daemon is not used`, async () => {
      const o = new OvsOracle([1, 2]);
      const pid = Number(readFileSync(join(o.dir, 'ovs-vswitchd.pid'), 'utf8'));
      const monitor = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      try {
        o.setFlows(['actions=drop']);
        await o.send(1, new Uint8Array(60).fill(0xab));
        expect(o.deathReport()).toBe('');
        process.kill(pid, signal);
        const err = await o.send(1, new Uint8Array(60).fill(0xcd)).then(() => '', (e: Error) => e.message);
        expect({ err }).toEqual({ err: expect.stringMatching(word) });
        expect(err).toContain('ovs-vswitchd.log');
        expect(err).toContain(`ovs-appctl netdev-dummy/receive p1 ${'ab'.repeat(60)}`);
        expect(err).toContain('ovs-ofctl add-flows br0 flows.txt (1 flows)');
        expect(o.alive()).toBe(false);
        // A restarted daemon answers on the bridge's socket: the oracle refuses to use it.
        expect(() => o.dumpFlows()).toThrow(/not the one started/);
      } finally {
        o.stop();
      }
      for (let i = 0; i < 100 && left(o.dir, monitor).length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(left(o.dir, monitor)).toEqual([]);
    });
  }

  it('stopped right after a crash, while its monitor restarts it: no process of the run is left', async () => {
    const o = new OvsOracle([1]);
    const pid = Number(readFileSync(join(o.dir, 'ovs-vswitchd.pid'), 'utf8'));
    const monitor = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    try {
      process.kill(pid, 'SIGSEGV');
      for (let i = 0; i < 200 && o.alive(); i++) await new Promise((r) => setTimeout(r, 5));
    } finally {
      o.stop();
    }
    for (let i = 0; i < 100 && left(o.dir, monitor).length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(left(o.dir, monitor)).toEqual([]);
  });

  it("the testbed's Daemons: after a crash no tool runs against the daemon its monitor restarted", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vippath-death-'));
    const d = new Daemons(dir);
    const env = { OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
    try {
      d.run(env, 'ovsdb-tool', ['create', join(dir, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
      d.start(env, 'ovsdb-server', [`--log-file=${join(dir, 'db.log')}`, `--remote=punix:${join(dir, 'db.sock')}`, join(dir, 'conf.db')], join(dir, 'db.pid'));
      const list = ['list-dbs', `unix:${join(dir, 'db.sock')}`];
      expect(d.run(env, 'ovsdb-client', list)).toContain('Open_vSwitch');
      const pid = d.recorded('ovsdb-server')!.pid;
      process.kill(pid, 'SIGSEGV');
      for (let i = 0; i < 100 && processRunning(pid); i++) await new Promise((r) => setTimeout(r, 10));
      const err = (() => {
        try {
          d.run(env, 'ovsdb-client', list);
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect({ err }).toEqual({ err: expect.stringMatching(new RegExp(`not run, a daemon is not the one started:\\novsdb-server \\(pid ${pid}\\) died: 1 crashes: pid ${pid} died, killed \\(Segmentation fault\\)`)) });
      await expect(d.runAsync(env, 'ovsdb-client', list)).rejects.toThrow(/not run, a daemon is not the one started/);
    } finally {
      await d.stop();
    }
    expect(d.running()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
