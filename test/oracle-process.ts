/**
 * Stops daemons started by a test oracle: by pids recorded at start (the testbed's Daemons) or read from pidfiles,
 * never by name, and never a pid that is no longer the daemon started; then removes the run directory.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runsWithArg } from '../packages/vippath/src/testbed/daemons.js';
// The testbed's own checks (a zombie counts as gone; a pid is the recorded process only with its start time).
export { Daemons, logTail, processAlive as processRunning, sleepSync, stillRunning } from '../packages/vippath/src/testbed/daemons.js';

/**
 * SIGTERM to each daemon named by a pidfile in `dir` — only if that pid still runs a process started with
 * `--pidfile=<that file>` (a daemon killed without its exit hooks leaves its pidfile, and the pid in it may be another
 * program's by now) —, then removes `dir`.
 */
export function stopByPidfiles(dir: string, pidfiles: string[]): void {
  for (const name of pidfiles) {
    const pidfile = join(dir, name);
    let pid: number;
    try {
      pid = Number(readFileSync(pidfile, 'utf8').trim());
    } catch {
      continue;
    }
    if (!runsWithArg(pid, `--pidfile=${pidfile}`)) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
