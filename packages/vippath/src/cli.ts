#!/usr/bin/env node
import { removeTemporaries } from '@vippath/pcap';
import { main } from './main.js';

// Writes go straight to the file descriptors' streams; a closed pipe (`vippath pcap x | head`) ends quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Interrupted (Ctrl-C, kill): the temporaries of unfinished outputs go, earlier outputs stay as they were
// (nothing was renamed over them), and the exit status says which signal (128 + its number). A signal that lands
// after the command has returned interrupts nothing — its outputs are published — so the run's own status stands
// (a faster replay made this window reachable: the signal fuzz caught exit 143 beside complete new outputs).
let finished: number | undefined;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (finished !== undefined) process.exit(finished);
    const removed = removeTemporaries();
    process.stderr.write(`\nvippath: interrupted (${signal})${removed ? `; ${removed} unfinished output file(s) removed` : ''}; earlier outputs are left as they were\n`);
    process.exit(code);
  });
}

const code = await main(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  control: (s) => void process.stderr.write(s),
  // Progress bars only where a person watches: a terminal, and not under CI.
  interactive: process.stderr.isTTY === true && !process.env.CI,
});
finished = code;
process.exitCode = code;
