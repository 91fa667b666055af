/**
 * What a `vippath replay` of the default scenario loads at its start (bench/README "A small capture, start to
 * finish"): not the `yaml` package (the default scenario is kept parsed), which commands reading manifests load
 * when they read them. Run on the build, in a fresh process (this one has loaded everything).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainJs = `${root}packages/vippath/dist/main.js`;

describe.skipIf(!existsSync(mainJs))('the CLI loads yaml only to read manifests', () => {
  it('replay of the default scenario without it; lint --manifests with it, and right', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { main } = await import(${JSON.stringify(mainJs)});
      const cache = createRequire(import.meta.url).cache;
      const yamlLoaded = () => Object.keys(cache).some((k) => /[\\\\/]yaml[\\\\/]/.test(k));
      const run = async (argv) => { let out = ''; const code = await main(argv, { stdout: (s) => { out += s; }, stderr: (s) => { out += s; } }); return { code, out }; };
      const replay = await run(['replay', ${JSON.stringify(`${root}test/fixtures/vip-ipv4.pcap`)}, '--json']);
      const afterReplay = yamlLoaded();
      const lint = await run(['lint', '--manifests', ${JSON.stringify(`${root}test/fixtures/manifests/dual-stack.yaml`)}, '--json']);
      console.log(JSON.stringify({ replay: { code: replay.code, frames: JSON.parse(replay.out).framesRead }, afterReplay, lint: { code: lint.code, findings: JSON.parse(lint.out).length }, afterLint: yamlLoaded() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { replay: { code: number; frames: number }; afterReplay: boolean; lint: { code: number; findings: number }; afterLint: boolean };
    expect(out.replay.code).toBe(0);
    expect(out.replay.frames).toBeGreaterThan(0);
    expect(out.afterReplay).toBe(false);
    expect(out.lint.code).toBeLessThan(2);
    expect(out.afterLint).toBe(true);
  });
});
