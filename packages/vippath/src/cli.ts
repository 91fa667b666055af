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
process.exitCode = code;
