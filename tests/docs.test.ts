// Every name the package exports (runtime values and types, both entries) has a doc comment,
// so the API reference (`npm run docs`, TypeDoc) has something to say about each of them.
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';

const entries = ['../src/index.ts', '../src/node.ts'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** Exported names of `entry` whose declarations carry no doc comment. */
function undocumented(program: ts.Program, entry: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const doc = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    if (!doc) missing.push(exported.name);
  }
  return missing;
}

describe('API documentation', () => {
  it('every exported name of wasm-cnn and wasm-cnn/node has a doc comment', () => {
    const program = ts.createProgram(entries, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true, skipLibCheck: true });
    const missing = entries.flatMap((e) => undocumented(program, e).map((n) => `${e.endsWith('node.ts') ? 'wasm-cnn/node' : 'wasm-cnn'}: ${n}`));
    expect(missing).toEqual([]);
  }, 60_000);
});
