/**
 * The API docs document every symbol once. The umbrella package re-exports each `@vippath/*` package as a
 * namespace (`export * as wire from '@vippath/wire'`); converted package by package, TypeDoc documented those
 * namespaces again from the packages' built `.d.ts` (one page under `@vippath/wire`, one under `vippath.wire`, for
 * every symbol). typedoc.json now converts all packages as one program (tsconfig.docs.json maps `@vippath/*` to
 * the sources, entry points in dependency order), so the umbrella's namespaces are references to the package
 * modules. This converts the docs as `pnpm run docs` does (no HTML) and checks that, with the same validation.
 *
 * `VIPPATH_TYPEDOC_OPTIONS=<file>` points it at another configuration (to see it fail on the old one).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import { Application, ReflectionKind, ReferenceReflection, type ProjectReflection } from 'typedoc';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const options = process.env.VIPPATH_TYPEDOC_OPTIONS ?? join(root, 'typedoc.json');

/** The kinds TypeDoc gives a page of their own. */
const PAGE_KINDS = ReflectionKind.Module | ReflectionKind.Namespace | ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.Function | ReflectionKind.Variable | ReflectionKind.TypeAlias | ReflectionKind.Enum;

/**
 * Symbols documented more than once, keyed by where they are declared: package, file and qualified name, with a
 * package's built `dist/x.d.ts` read as its `src/x.ts` (a re-export through the built types is the same symbol).
 */
function documentedTwice(project: ProjectReflection): { pages: number; duplicates: string[] } {
  const seen = new Map<string, string[]>();
  let pages = 0;
  for (const refl of Object.values(project.reflections)) {
    if (refl instanceof ReferenceReflection || !refl.kindOf(PAGE_KINDS)) continue;
    pages++;
    const id = project.getSymbolIdFromReflection(refl);
    if (!id) continue;
    const key = `${id.packageName}:${id.packagePath.replace(/^dist\/(.*)\.d\.ts$/, 'src/$1.ts')}:${id.qualifiedName}`;
    seen.set(key, [...(seen.get(key) ?? []), refl.getFullName()]);
  }
  return { pages, duplicates: [...seen.values()].filter((names) => names.length > 1).map((names) => names.join(' = ')) };
}

describe('the API docs', () => {
  it('document every symbol once, warning-free; the umbrella\'s namespaces link to the package modules', async () => {
    const app = await Application.bootstrapWithPlugins({ options, logLevel: 'Warn' });
    const project = await app.convert();
    expect(project, 'typedoc could not convert the project').toBeDefined();
    app.validate(project!);
    expect(app.logger.hasErrors() || app.logger.hasWarnings(), 'typedoc warned (see above)').toBe(false);

    const { pages, duplicates } = documentedTwice(project!);
    console.log(`typedoc: ${pages} symbols with a page of their own, ${duplicates.length} documented twice`);
    expect(duplicates).toEqual([]);

    // One module per package, named as users import it.
    const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'src/index.ts')));
    const modules = project!.getChildrenByKind(ReflectionKind.Module).map((m) => m.name).sort();
    expect(modules).toEqual(packages.map((p) => (p === 'vippath' ? 'vippath' : `@vippath/${p}`)).sort());
    // `vippath.wire` and the rest: references to the modules, not copies.
    const umbrella = project!.getChildByName('vippath')!;
    for (const p of packages.filter((x) => x !== 'vippath')) {
      const ns = project!.getChildByName(['vippath', p]);
      expect(ns, `vippath.${p}`).toBeInstanceOf(ReferenceReflection);
      expect((ns as ReferenceReflection).getTargetReflectionDeep().getFullName()).toBe(`@vippath/${p}`);
    }
    expect(umbrella.kindOf(ReflectionKind.Module)).toBe(true);
  }, 120_000);
});
