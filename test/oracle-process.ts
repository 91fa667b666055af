/** Stops daemons started by a test oracle by the pids in their pidfiles (never by name), then removes the run directory. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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
