// The shipped kernel module really is SIMD where it matters: reads build/kernels.simd.wasm
// with binaryen (the copy that ships with assemblyscript) and checks that the code reachable
// from the gemm_f32 and conv_bwd_filter_f32 exports has inner loops made of f32x4 mul/add
// over v128 loads (the micro-kernels: the 5x8 broadcast tile, and the 5x2 dot tile of the
// convolution's weight gradient), and no relaxed SIMD. The named
// text file the build writes next to it (build/kernels.simd.wat) must show the micro-kernels
// as functions of their own: their speed in V8 depends on it (see assembly/gemm.ts).
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WASM = `${root}build/kernels.simd.wasm`;
const WAT = `${root}build/kernels.simd.wat`;

/** The balanced s-expression that starts at text[start] === '('. */
function sexpr(text: string, start: number): string {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error('unbalanced s-expression');
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const ops = (s: string) => ({
  mul: count(s, /f32x4\.mul\b/g),
  add: count(s, /f32x4\.add\b/g),
  load: count(s, /v128\.load(?=[\s)])/g), // full 16-byte loads
  splat: count(s, /v128\.load32_splat\b/g),
});

interface Func { name: string; text: string }

/** Functions of a folded text module (binaryen emitText), by name. */
function functions(text: string): Map<string, Func> {
  const out = new Map<string, Func>();
  const re = /\n \(func (\$[^\s()]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = sexpr(text, m.index + 2);
    out.set(m[1], { name: m[1], text: body });
  }
  return out;
}

/** The loops (folded `(loop ...)` forms) inside a function. */
function loops(fn: Func): string[] {
  const out: string[] = [];
  for (let i = fn.text.indexOf('(loop'); i >= 0; i = fn.text.indexOf('(loop', i + 1)) out.push(sexpr(fn.text, i));
  return out;
}

let fns: Map<string, Func>;
let reachable: Func[];

beforeAll(() => {
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run \`npm run build:wasm\` first`);
  const mod = binaryen.readBinary(readFileSync(WASM));
  const text = mod.emitText();
  mod.dispose();
  fns = functions(text);
  const roots = ['gemm_f32', 'conv_bwd_filter_f32'].map((name) => {
    const exp = new RegExp(`\\(export "${name}" \\(func (\\$[^\\s()]+)\\)\\)`).exec(text);
    if (!exp) throw new Error(`build/kernels.simd.wasm does not export ${name}`);
    return exp[1];
  });
  // call graph from the exports
  const seen = new Set<string>(roots);
  const todo = [...roots];
  while (todo.length) {
    const fn = fns.get(todo.pop()!);
    if (!fn) continue;
    for (const m of fn.text.matchAll(/\(call (\$[^\s()]+)/g)) {
      if (!seen.has(m[1])) {
        seen.add(m[1]);
        todo.push(m[1]);
      }
    }
  }
  reachable = [...seen].map((n) => fns.get(n)).filter((f): f is Func => f !== undefined);
});

describe('build/kernels.simd.wasm: gemm_f32 and the convolution\'s weight gradient are f32x4 code', () => {
  it('reaches more than one function (the driver calls its micro-kernels)', () => {
    expect(reachable.length).toBeGreaterThan(1);
  });

  it('has the 5x8 broadcast micro-kernel: a loop of >= 10 f32x4 mul+add over v128.load32_splat and v128.load', () => {
    const hits = reachable.flatMap(loops).map(ops).filter((o) => o.mul >= 10 && o.add >= 10 && o.splat >= 5 && o.load >= 2);
    expect(hits.length).toBeGreaterThan(0);
  });

  it('has the 5x2 dot micro-kernel: a loop of >= 10 f32x4 mul+add over >= 7 v128.load', () => {
    const hits = reachable.flatMap(loops).map(ops).filter((o) => o.mul >= 10 && o.add >= 10 && o.load >= 7);
    expect(hits.length).toBeGreaterThan(0);
  });

  it('packs with v128 loads/stores and shuffles too (not scalar copies)', () => {
    const all = reachable.map((f) => f.text).join('\n');
    expect(count(all, /i8x16\.shuffle\b/g)).toBeGreaterThanOrEqual(8);
    expect(count(all, /v128\.store\b/g)).toBeGreaterThanOrEqual(8);
  });

  it('uses plain SIMD only (no relaxed SIMD in the default, bit-reproducible build)', () => {
    for (const f of reachable) expect(f.text).not.toMatch(/relaxed/);
  });
});

describe('build/kernels.simd.wat: the micro-kernels are functions of their own', () => {
  // name, multiply-adds per k-step, v128 loads + splats per k-step
  for (const [name, madds, loads] of [['micro_5x8_simd', 10, 7], ['dot_5x2_simd', 10, 7], ['micro_3x12_simd', 9, 6]] as const) {
    it(`${name} exists and its loop is ${madds} f32x4 mul/add over v128 loads`, () => {
      const wat = readFileSync(WAT, 'utf8');
      const start = wat.indexOf(` (func $assembly/gemm/${name} `);
      expect(start, `${name} was inlined or renamed`).toBeGreaterThanOrEqual(0);
      const next = wat.indexOf('\n (func ', start + 1);
      const body = wat.slice(start, next < 0 ? undefined : next);
      const o = ops(body);
      expect(body).toMatch(/\bloop\b/);
      expect(o.mul).toBeGreaterThanOrEqual(madds);
      expect(o.add).toBeGreaterThanOrEqual(madds);
      expect(o.load + o.splat).toBeGreaterThanOrEqual(loads);
    });
  }
});
