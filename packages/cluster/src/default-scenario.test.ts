import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTS, DEFAULT_SCENARIO_FILE } from './default-scenario.js';
import { loadManifests } from './manifests.js';
import { defaultObjects, withDefaults } from './scenario.js';

// The YAML is the source; default-scenario.ts is generated from it by scripts/default-scenario.mjs.
const DEFAULT_MANIFESTS = readFileSync(fileURLToPath(new URL('./default-scenario.yaml', import.meta.url)), 'utf8');
const STALE = 'default-scenario.ts does not match default-scenario.yaml: run `node scripts/default-scenario.mjs` after the build';

describe('the default scenario kept parsed', () => {
  it('is what loading its YAML makes: values, key order, source positions', () => {
    const loaded = loadManifests(DEFAULT_MANIFESTS, DEFAULT_SCENARIO_FILE).objects;
    expect(defaultObjects(), STALE).toStrictEqual(loaded);
    // toStrictEqual ignores key order; the outputs (status --json, summary.json) follow it.
    expect(JSON.stringify(defaultObjects()), STALE).toBe(JSON.stringify(loaded));
    expect(JSON.stringify(DEFAULT_OBJECTS), STALE).toBe(JSON.stringify(loaded));
  });

  it('gives fresh objects each call, as loading did: a caller changing its copy changes no other', () => {
    const a = defaultObjects();
    (a[0]!.metadata as { name: string }).name = 'changed';
    (a[2]!.spec as { cidrBlock: string }).cidrBlock = '10.0.0.0/8';
    a.pop();
    expect(defaultObjects()).toStrictEqual(loadManifests(DEFAULT_MANIFESTS, DEFAULT_SCENARIO_FILE).objects);
    expect(withDefaults([]).map((o) => o.metadata.name)).toStrictEqual(DEFAULT_OBJECTS.map((o) => o.metadata.name));
  });
});

// The `yaml` package is loaded at the first manifest read (manifests.ts), checked in a fresh process on the build.
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
describe.skipIf(!existsSync(dist))('default-scenario.ts is the generator\'s output, byte for byte', () => {
  it('scripts/default-scenario.mjs --check finds it current', () => {
    const script = fileURLToPath(new URL('../../../scripts/default-scenario.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(r.stderr, STALE).toBe('');
    expect(r.status).toBe(0);
  });
});
describe.skipIf(!existsSync(dist))('yaml loaded when manifests are read, not before', () => {
  it('a simulation of the default scenario loads no yaml; reading manifests then works', () => {
    const script = `
      import { createRequire } from 'node:module';
      const c = await import(${JSON.stringify(dist)});
      const cache = createRequire(import.meta.url).cache;
      const yamlLoaded = () => Object.keys(cache).some((k) => /[\\\\/]yaml[\\\\/]/.test(k));
      new c.SimulatedCluster(c.defaultObjects(), c.DEFAULT_CLUSTER, { trace: false });
      const before = yamlLoaded();
      const objects = c.loadManifests('apiVersion: v1\\nkind: Service\\nmetadata: {name: a}\\nspec: {type: LoadBalancer}\\n', 'x.yaml').objects;
      let error = '';
      try { c.loadManifests('kind: [', 'bad.yaml'); } catch (e) { error = e.constructor.name + ' ' + e.message; }
      console.log(JSON.stringify({ before, after: yamlLoaded(), objects, error }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { before: boolean; after: boolean; objects: Array<{ kind: string; metadata: { name: string }; source: unknown }>; error: string };
    expect(out.before).toBe(false);
    expect(out.after).toBe(true);
    expect(out.objects.map((o) => [o.kind, o.metadata.name, o.source])).toStrictEqual([['Service', 'a', { file: 'x.yaml', line: 1, column: 1 }]]);
    expect(out.error).toMatch(/^ManifestLoadError bad\.yaml:1:/);
  });
});
