#!/usr/bin/env node
import { main } from './main.js';

// Writes go straight to the file descriptors' streams; a closed pipe (`vippath pcap x | head`) ends quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await main(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  control: (s) => void process.stderr.write(s),
  // Progress bars only where a person watches: a terminal, and not under CI.
  interactive: process.stderr.isTTY === true && !process.env.CI,
});
process.exitCode = code;
