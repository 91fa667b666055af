/**
 * vippath as a user gets it from npm: every publishable package is packed with `pnpm pack`, installed
 * with plain `npm install` into a temporary project outside the workspace (no workspace links), and then
 * (1) imported from an ESM script that decodes the bundled capture, (2) type-checked from a TypeScript
 * consumer with `tsc --noEmit` against the installed types, and (3) run as the installed `vippath` bin.
 *
 * It needs the built packages (`pnpm test` builds first) and the npm registry for third-party
 * dependencies; set VIPPATH_SKIP_CONSUMER=1 to skip it offline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(root, 'test/fixtures/vip-ipv4.pcap');
const skip = process.env.VIPPATH_SKIP_CONSUMER === '1';
if (skip) console.warn('consumer test skipped: VIPPATH_SKIP_CONSUMER=1');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const publishable = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => !manifest.private);

let work = '';
const tarballs = new Map<string, string>();

function pnpm(args: string[], cwd: string): string {
  return execFileSync('npx', ['-y', 'pnpm@10.34.8', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.skipIf(skip)('installed from packed tarballs', () => {
  beforeAll(() => {
    for (const { dir } of publishable) {
      if (!existsSync(join(root, 'packages', dir, 'dist/index.js'))) {
        throw new Error(`packages/${dir}/dist is missing: run \`pnpm run build\` (pnpm test does it) before this test`);
      }
    }
    work = mkdtempSync(join(tmpdir(), 'vippath-consumer-'));
    const packs = join(work, 'packs');
    mkdirSync(packs);
    for (const { dir, manifest } of publishable) {
      const before = new Set(readdirSync(packs));
      pnpm(['pack', '--pack-destination', packs], join(root, 'packages', dir));
      const made = readdirSync(packs).filter((f) => !before.has(f));
      expect(made, `pnpm pack of ${manifest.name}`).toHaveLength(1);
      tarballs.set(manifest.name, join(packs, made[0]!));
    }
    const app = join(work, 'app');
    mkdirSync(app);
    const deps = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
    // overrides: the packed manifests name each other by version (^0.1.0), which no registry serves
    // before publication; point those names at the tarballs too.
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: deps, devDependencies: { '@types/node': '^20.19.0' }, overrides: deps }, null, 2));
    // --omit=optional: proves that `cap` (native, live capture only) really is optional.
    execFileSync('npm', ['install', '--omit=optional', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs workspace: ranges into real versions; ships built output and the sources its maps name, no tests', () => {
    for (const { manifest } of publishable) {
      const file = tarballs.get(manifest.name)!;
      const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
      expect(listing, manifest.name).toContain('package/dist/index.js');
      expect(listing, manifest.name).toContain('package/dist/index.d.ts');
      expect(listing, manifest.name).toContain('package/src/index.ts');
      expect(listing.filter((f) => /\.test(-helpers)?\.(js|ts)$/.test(f) || f.endsWith('.tsbuildinfo')), `${manifest.name} ships tests or build state`).toEqual([]);
      // Every source a map names (stack traces, "go to definition" through .d.ts.map) is in the tarball.
      const shipped = new Set(listing);
      const maps = listing.filter((f) => f.endsWith('.map'));
      expect(maps.length, manifest.name).toBeGreaterThan(0);
      for (const map of maps) {
        const { sources, sourceRoot } = JSON.parse(execFileSync('tar', ['-xzOf', file, map], { encoding: 'utf8' })) as { sources: string[]; sourceRoot?: string };
        for (const source of sources) {
          const path = posix.normalize(posix.join(posix.dirname(map), sourceRoot ?? '', source));
          expect(shipped.has(path), `${manifest.name}: ${map} names ${source}, which is not shipped`).toBe(true);
        }
      }
      const packed = JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
      for (const [dep, range] of Object.entries(packed.dependencies ?? {})) {
        expect(range, `${manifest.name} → ${dep}`).not.toMatch(/^workspace:/);
        if (dep.startsWith('@vippath/')) {
          const target = publishable.find((p) => p.manifest.name === dep);
          expect(target, `${manifest.name} depends on unknown ${dep}`).toBeDefined();
          expect(range).toBe(`^${target!.manifest.version}`);
        }
      }
    }
  });

  it('imports every package from an ESM script, decodes the bundled capture and replays it', () => {
    const app = join(work, 'app');
    const names = publishable.map((p) => p.manifest.name);
    writeFileSync(join(app, 'use.mjs'), [
      `const names = ${JSON.stringify(names)};`,
      'for (const n of names) { const m = await import(n); if (Object.keys(m).length === 0) throw new Error(n + " exports nothing"); }',
      "const { openCapture } = await import('@vippath/pcap');",
      "const { FrameDecoder, DecodedFrame } = await import('@vippath/wire');",
      `let frames = 0, vlan341 = 0; const decoder = new FrameDecoder(); const out = new DecodedFrame();`,
      `for await (const rec of openCapture(${JSON.stringify(fixture)})) { frames++; decoder.decode(rec.data, out); if (out.vlanCount > 0 && (out.vlanTci[0] & 0xfff) === 341) vlan341++; }`,
      "const { cluster } = await import('vippath');",
      `const { summary } = await cluster.replayCapture(${JSON.stringify(fixture)}, cluster.defaultObjects(), cluster.DEFAULT_CLUSTER);`,
      'console.log(JSON.stringify({ frames, vlan341, served: Object.values(summary.servedBy).map((s) => s.node), tcpFromVip: summary.toClient.tcpFromVip }));',
    ].join('\n'));
    const result = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: app, encoding: 'utf8' })) as { frames: number; vlan341: number; served: string[]; tcpFromVip: number };
    expect(result.frames).toBeGreaterThan(10);
    expect(result.vlan341).toBe(result.frames);
    // The replay of the bundled capture through the default scenario, from the installed packages.
    expect(result.served).toEqual(['node3']);
    expect(result.tcpFromVip).toBeGreaterThan(5);
  });

  it('type-checks a TypeScript consumer against the installed types', () => {
    const app = join(work, 'app');
    writeFileSync(join(app, 'consumer.ts'), [
      "import { FrameDecoder, DecodedFrame, VippathError } from '@vippath/wire';",
      "import { openCapture } from '@vippath/pcap';",
      'const decoder: FrameDecoder = new FrameDecoder();',
      'const out: DecodedFrame = new DecodedFrame();',
      'export async function count(path: string): Promise<number> {',
      '  let n = 0;',
      '  for await (const rec of openCapture(path)) { decoder.decode(rec.data, out); n += rec.captureLength > 0 ? 1 : 0; }',
      '  return n;',
      '}',
      "export const isOurs = (e: unknown): boolean => e instanceof VippathError && typeof e.code === 'string';",
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['consumer.ts'],
    }));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const check = spawnSync('node', [tsc, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    // And the check can fail: a wrong type must be reported.
    writeFileSync(join(app, 'wrong.ts'), "import { DecodedFrame } from '@vippath/wire';\nexport const x: string = new DecodedFrame();\n");
    writeFileSync(join(app, 'tsconfig.wrong.json'), JSON.stringify({ extends: './tsconfig.json', files: ['wrong.ts'] }));
    expect(() => execFileSync('node', [tsc, '-p', 'tsconfig.wrong.json'], { cwd: app, stdio: 'pipe' })).toThrow();
  });

  it('a stack trace through the installed packages (--enable-source-maps) names files that exist', () => {
    const app = join(work, 'app');
    // Two errors a user meets: a typed error from @vippath/wire, and a failing flow-table property from
    // @vippath/testing (the example: flowcheck.ts), each thrown from deep in the packages.
    writeFileSync(join(app, 'stack.mjs'), [
      "import { parseMac } from '@vippath/wire';",
      "import { Port } from '@vippath/openflow';",
      "import { checkFlowTable, frameArb, neverOutputsTo } from '@vippath/testing';",
      'const stacks = [];',
      "try { parseMac('52:54:00'); } catch (e) { stacks.push(e.stack); }",
      'try {',
      "  checkFlowTable({ flows: 'priority=0,actions=NORMAL', ports: [{ name: 'u', ofport: 1 }, { name: 'p', ofport: 2 }], inPorts: [1], packets: frameArb({ kinds: ['tcp4'] }), property: neverOutputsTo(Port.LOCAL), parameters: { seed: 1, numRuns: 5 }, outDir: 'counterexample' });",
      '} catch (e) { stacks.push(e.stack); }',
      'console.log(JSON.stringify(stacks));',
    ].join('\n'));
    const stacks = JSON.parse(execFileSync('node', ['--enable-source-maps', 'stack.mjs'], { cwd: app, encoding: 'utf8' })) as string[];
    expect(stacks).toHaveLength(2);
    for (const [i, pkg] of [[0, 'wire'], [1, 'testing']] as const) {
      const frames = [...stacks[i]!.matchAll(/\(?(\/[^\s()]+?):(\d+):(\d+)\)?$/gm)].map((m) => m[1]!).filter((f) => f.includes('/node_modules/@vippath/'));
      // Mapped back to the TypeScript sources, in the package that threw…
      expect(frames.filter((f) => f.includes(`/node_modules/@vippath/${pkg}/src/`) && f.endsWith('.ts')), stacks[i]).not.toEqual([]);
      // …and every file the trace names is there to open.
      for (const f of frames) expect(existsSync(f), `${f} (named in the stack trace) does not exist`).toBe(true);
    }
  });

  it('runs the installed vippath bin', () => {
    const app = join(work, 'app');
    const help = execFileSync('npx', ['--no-install', 'vippath', '--help'], { cwd: app, encoding: 'utf8' });
    expect(help).toMatch(/pcap/);
    const lines = execFileSync('npx', ['--no-install', 'vippath', 'pcap', fixture, '--json'], { cwd: app, encoding: 'utf8' })
      .trim().split('\n').map((l) => JSON.parse(l) as { index: number });
    expect(lines.length).toBeGreaterThan(10);
    expect(lines[0]!.index).toBe(1);
    const replay = execFileSync('npx', ['--no-install', 'vippath', 'replay', fixture], { cwd: app, encoding: 'utf8' });
    expect(replay).toMatch(/VIP 10\.180\.204\.252, announced by node3/);
    expect(replay).toMatch(/served by \S+ on node3/);
  });
});
