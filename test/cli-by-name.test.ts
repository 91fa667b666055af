/**
 * `vippath` by name from the checkout, as packages/vippath/README.md shows it (`npx vippath …`,
 * `pnpm exec vippath …`): the workspace root depends on the `vippath` package, so pnpm links its bin into
 * node_modules/.bin. Checked twice: in this checkout (after the build), and in a fresh copy of the workspace
 * installed from the committed lockfile, where the bin must be linked before the first build (pnpm skips a bin
 * whose target file is missing at install time) and must say how to build when run too early.
 *
 * The fresh install needs pnpm's store (filled by the README's install) or the registry; set
 * VIPPATH_SKIP_CONSUMER=1 to skip it offline, as for test/consumer.test.ts.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(root, 'packages/vippath/dist/cli.js'));
const skipFresh = process.env.VIPPATH_SKIP_CONSUMER === '1';
if (!built) console.warn('cli-by-name: packages/*/dist missing, run `pnpm run build` (pnpm test does it) first');
const version = (JSON.parse(readFileSync(join(root, 'packages/vippath/package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], cwd: string) {
  // As a user's shell would run it: without the npm_config_* variables `pnpm test` exports (npm warns about the
  // ones it does not know, e.g. verify-deps-before-run, on stderr).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...env, npm_config_yes: 'false' } });
}

describe('vippath by name', () => {
  it('the manifests: the root depends on vippath; its bin is a committed file with a node shebang', () => {
    const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    expect(rootManifest.devDependencies?.vippath).toBe('workspace:*');
    const manifest = JSON.parse(readFileSync(join(root, 'packages/vippath/package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    const bin = manifest.bin.vippath!;
    expect(bin.startsWith('./dist/'), 'a bin under dist/ is not linked in a fresh checkout').toBe(false);
    const text = readFileSync(join(root, 'packages/vippath', bin), 'utf8');
    expect(text.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(manifest.files).toContain(bin.replace(/^\.\//, ''));
    expect(readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8')).toMatch(/\n {6}vippath:\n {8}specifier: workspace:\*\n {8}version: link:packages\/vippath\n/);
  });

  it.skipIf(!built)('runs from the repository root: npx vippath and pnpm exec vippath', () => {
    const npx = run('npx', ['--no-install', 'vippath', '--help'], root);
    expect(npx.stderr).toBe('');
    expect(npx.status).toBe(0);
    expect(npx.stdout).toMatch(/^usage: vippath <command> \[options\]$/m);
    const exec = run('npx', ['-y', 'pnpm@10.34.8', 'exec', 'vippath', '--version'], root);
    expect(exec.status, exec.stderr).toBe(0);
    expect(exec.stdout.trim()).toBe(version);
    // Exit codes come through the bin: a usage mistake is 2.
    expect(run('npx', ['--no-install', 'vippath', 'no-such-command'], root).status).toBe(2);
  });

  describe.skipIf(!built || skipFresh)('in a fresh copy of the workspace', () => {
    const work = mkdtempSync(join(tmpdir(), 'vippath-fresh-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it('links the bin at install, before any build; says how to build; runs once built', () => {
      // What a clone has that pnpm reads: the workspace manifests, the lockfile, and the committed bin file.
      for (const file of ['package.json', 'pnpm-workspace.yaml', 'pnpm-lock.yaml']) cpSync(join(root, file), join(work, file));
      const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
      for (const dir of packages) {
        mkdirSync(join(work, 'packages', dir), { recursive: true });
        cpSync(join(root, 'packages', dir, 'package.json'), join(work, 'packages', dir, 'package.json'));
      }
      cpSync(join(root, 'packages/vippath/bin'), join(work, 'packages/vippath/bin'), { recursive: true });
      // --frozen-lockfile: the committed lockfile must already carry the root's vippath dependency.
      const install = run('npx', ['-y', 'pnpm@10.34.8', 'install', '--frozen-lockfile', '--prefer-offline', '--ignore-scripts'], work);
      expect(install.status, install.stdout + install.stderr).toBe(0);
      expect(install.stdout + install.stderr).not.toMatch(/Failed to create bin/);
      expect(existsSync(join(work, 'node_modules/.bin/vippath'))).toBe(true);

      const early = run('npx', ['--no-install', 'vippath', '--help'], work);
      expect(early.status).toBe(1);
      expect(early.stderr).toMatch(/vippath is not built yet: run `npx -y pnpm@10\.34\.8 run build`/);

      for (const dir of packages) cpSync(join(root, 'packages', dir, 'dist'), join(work, 'packages', dir, 'dist'), { recursive: true });
      const help = run('npx', ['-y', 'pnpm@10.34.8', 'exec', 'vippath', '--help'], work);
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/^usage: vippath <command> \[options\]$/m);
      const trace = run('npx', ['--no-install', 'vippath', 'trace', 'tcp,dst=10.180.204.252,dport=80', '--json'], work);
      expect(trace.status, trace.stderr).toBe(0);
      expect(JSON.parse(trace.stdout)).toBeTypeOf('object');
    }, 180_000);
  });
});
