#!/usr/bin/env node
// The `vippath` bin is this committed file rather than dist/cli.js: pnpm links a workspace package's bin
// only when its target exists at install time, and in a fresh checkout dist/ appears only with the first
// build. This keeps `npx vippath` / `pnpm exec vippath` linked from the install on, and says what to do
// when the build has not run yet.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('vippath is not built yet: run `npx -y pnpm@10.34.8 run build` at the workspace root\n');
  process.exit(1);
}
await import(cli.href);
