/**
 * The public API of every package is deliberate: this lists each package's exports (name and kind,
 * as the TypeScript checker sees `src/index.ts`) and compares them with the committed report in
 * `test/api/<package>.api.txt`. Removing or renaming an export fails here; to change the API on
 * purpose, run `npx vitest run test/api-surface.test.ts -u` and commit the updated report.
 */
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(`${root}packages`).filter((name) => existsSync(`${root}packages/${name}/src/index.ts`));

function kindOf(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = target.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Variable) return 'const';
  if (f & ts.SymbolFlags.Namespace) return 'namespace';
  return 'other';
}

function apiReport(name: string): string {
  const entry = `${root}packages/${name}/src/index.ts`;
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.check.json`, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.check.json could not be read');
  const program = ts.createProgram([entry], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot load ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const exports = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
  const lines = exports.map((s) => `${kindOf(s, checker)} ${s.getName()}`).sort();
  return `# public API of ${name === 'vippath' ? 'vippath' : `@vippath/${name}`} (generated; see test/api-surface.test.ts)\n${lines.join('\n')}\n`;
}

describe('public API surface', () => {
  for (const name of packages) {
    it(`${name} exports what test/api/${name}.api.txt records`, async () => {
      const report = apiReport(name);
      expect(report.split('\n').length).toBeGreaterThan(2);
      await expect(report).toMatchFileSnapshot(`api/${name}.api.txt`);
    }, 60_000);
  }
});
