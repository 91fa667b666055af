/** Stops daemons started by a test oracle by the pids in their pidfiles (never by name), then removes the run directory. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
// The testbed's own check (a zombie counts as gone), for the oracles these tests start.
export { processAlive as processRunning } from '../packages/vippath/src/testbed/daemons.js';

export function stopByPidfiles(dir: string, pidfiles: string[]): void {
  for (const name of pidfiles) {
    const pidfile = join(dir, name);
    if (!existsSync(pidfile)) continue;
    try {
      process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

