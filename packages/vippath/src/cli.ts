#!/usr/bin/env node
import { onInterrupt, type RunState } from './interrupt.js';
import { main } from './main.js';

// Writes go straight to the file descriptors' streams; a closed pipe (`vippath pcap x | head`) ends quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// SIGINT/SIGTERM: unfinished outputs removed, exit 130/143 — unless the outputs are already published (interrupt.ts).
const state: RunState = { finished: undefined, deferred: false };
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => onInterrupt(signal, code, state, (c) => process.exit(c), (s) => void process.stderr.write(s)));
}

const code = await main(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  control: (s) => void process.stderr.write(s),
  // Progress bars only where a person watches: a terminal, and not under CI.
  interactive: process.stderr.isTTY === true && !process.env.CI,
});
state.finished = code;
// Ended by process.exit, not by letting the event loop run dry: on that natural way out Node closes its signal
// handles first (the signal's default action is back) and then tears down for tens of milliseconds, so a SIGTERM
// there killed a run whose outputs were complete (CI's signal fuzz, seed 20261124: SIGTERM at 2 417 ms, "killed by
// SIGTERM" beside four new outputs). process.exit keeps the handlers to the end. The standard streams are drained
// first: writes to pipes are asynchronous on some systems (macOS).
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((done) => s.write('', () => done()))));
process.exit(code);
