/**
 * What SIGINT/SIGTERM do to a running command (cli.ts installs it). Interrupted, the temporaries of unfinished
 * outputs go, earlier outputs stay as they were (nothing was renamed over them), and the exit status says which
 * signal (128 + its number). A signal that lands after the command has published its outputs interrupts nothing,
 * so the run's own status stands: after it returned (exit with that status), or between the renames and the return
 * (the summary still being printed: the run goes on to its end; a second signal then ends it). Both windows were
 * reached by the signal fuzz as replay got faster (exit 143 beside complete new outputs: once after the return,
 * once — seed 20261124, SIGTERM at 2 482 ms — before it). After the return cli.ts ends the process with
 * process.exit, which keeps the handlers installed to the last instruction (a natural exit drops them and then
 * tears down for ≈ 30 ms, when a SIGTERM killed a finished run).
 * @module
 */
import { outputsPublished, removeTemporaries } from '@vippath/pcap';

/** The command's progress, as the handler needs it. */
export interface RunState {
  /** The command's exit status once it returned. */
  finished: number | undefined;
  /** A signal came after the outputs were published and was let pass. */
  deferred: boolean;
}

/** Handles one SIGINT (code 130) or SIGTERM (143); `exit` ends the process, `stderr` says why. */
export function onInterrupt(signal: 'SIGINT' | 'SIGTERM', code: number, state: RunState, exit: (code: number) => void, stderr: (s: string) => void): void {
  if (state.finished !== undefined) return exit(state.finished);
  if (outputsPublished()) {
    if (state.deferred) return exit(code);
    state.deferred = true;
    return;
  }
  const removed = removeTemporaries();
  stderr(`\nvippath: interrupted (${signal})${removed ? `; ${removed} unfinished output file(s) removed` : ''}; earlier outputs are left as they were\n`);
  exit(code);
}
