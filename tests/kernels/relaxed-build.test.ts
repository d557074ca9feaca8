// The relaxed-SIMD builds (build/kernels.relaxed.wasm, build/kernels.relaxed-threads.wasm):
// their GEMM micro-kernels use f32x4.relaxed_madd while the default builds use none; where the
// engine rejects relaxed SIMD (Node 20 without a flag) relaxedSimd: 'auto' falls back to plain
// SIMD and says so, and true refuses; in a child `node --experimental-wasm-relaxed-simd` the
// relaxed builds validate, instantiate and compute GEMMs within float tolerance of the plain
// build (and createBackend picks them for 'auto').
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBackend } from '../../src/backend/create.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bytes = (build: string) => new Uint8Array(readFileSync(`${root}build/kernels.${build}.wasm`));
const FLAG = '--experimental-wasm-relaxed-simd';

/** Occurrences of the f32x4.relaxed_madd opcode (0xfd 0x105, LEB128: fd 85 02). */
function relaxedMadds(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02) n++;
  return n;
}

/** The body of a function of the build's text file. */
function watFunction(build: string, name: string): string {
  const wat = readFileSync(`${root}build/kernels.${build}.wat`, 'utf8');
  const start = wat.indexOf(` (func $assembly/gemm/${name} `);
  if (start < 0) throw new Error(`${name} not found in build/kernels.${build}.wat`);
  const next = wat.indexOf('\n (func ', start + 1);
  return wat.slice(start, next < 0 ? undefined : next);
}

describe('relaxed builds', () => {
  it('use relaxed madd in the GEMM micro-kernels; the default builds do not', () => {
    for (const build of ['relaxed', 'relaxed-threads']) {
      expect(relaxedMadds(bytes(build)), build).toBeGreaterThanOrEqual(40);
      // the k-loops of the 5x8 and 3x12 tiles: 10 and 9 relaxed madds, no separate mul / add
      for (const [name, madds] of [['micro_5x8_simd', 10], ['micro_3x12_simd', 9]] as const) {
        const body = watFunction(build, name);
        const loop = /\bloop (\$\S+)([\s\S]*?)\bbr \1\b/.exec(body);
        expect(loop, `${build} ${name} has a loop`).not.toBeNull();
        expect((loop![2].match(/f32x4\.relaxed_(fma|madd)\b/g) ?? []).length, `${build} ${name}`).toBe(madds);
        expect(loop![2]).not.toMatch(/f32x4\.(mul|add)\b/);
      }
    }
    for (const build of ['simd', 'threads']) {
      expect(relaxedMadds(bytes(build)), build).toBe(0);
      expect(readFileSync(`${root}build/kernels.${build}.wat`, 'utf8')).not.toMatch(/relaxed/);
    }
  });

  it("'auto' falls back to plain SIMD where the engine rejects relaxed SIMD, and says so; true refuses", async () => {
    const supported = WebAssembly.validate(bytes('relaxed'));
    const auto = await createBackend('wasm', { relaxedSimd: 'auto' });
    expect(auto.features.relaxedSimd).toBe(supported);
    const plain = await createBackend('wasm');
    expect(plain.features.relaxedSimd).toBe(false);
    expect(plain.features.relaxedSimdNote).toBeUndefined();
    if (!supported) {
      expect(auto.features.relaxedSimdNote).toMatch(/rejects relaxed SIMD.*--experimental-wasm-relaxed-simd.*plain-SIMD/);
      await expect(createBackend('wasm', { relaxedSimd: true })).rejects.toThrow(/relaxedSimd: true, but this engine rejects relaxed SIMD/);
      const threaded = await createBackend('wasm', { relaxedSimd: 'auto', threads: 2 });
      expect(threaded.features).toMatchObject({ relaxedSimd: false, threads: 2 });
      threaded.dispose();
    }
    await expect(createBackend('wasm', { relaxedSimd: 'yes' as never })).rejects.toThrow(/relaxedSimd must be true, false or 'auto'/);
  });

  it(`in node ${FLAG}: validate, instantiate, GEMM within tolerance of the plain build`, () => {
    const script = `
const { readFileSync, existsSync } = require('node:fs');
const root = ${JSON.stringify(root)};
const load = (b, shared) => {
  const bytes = readFileSync(root + 'build/kernels.' + b + '.wasm');
  if (!WebAssembly.validate(bytes)) return { valid: false };
  const memory = new WebAssembly.Memory(shared ? { initial: 256, maximum: 65536, shared: true } : { initial: 256 });
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  return { valid: true, e, memory };
};
let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const shapes = [[0, 0, 67, 45, 300], [1, 0, 131, 59, 173], [0, 1, 100, 4320 / 8, 100], [1, 1, 37, 29, 501], [0, 0, 100, 100, 4320]];
const inputs = shapes.map(([, , M, N, K]) => ({ A: Float32Array.from({ length: M * K }, rnd), B: Float32Array.from({ length: K * N }, rnd) }));
const run = (m) => shapes.map(([tA, tB, M, N, K], i) => {
  const f = new Float32Array(m.memory.buffer);
  const base = m.e.heap_base() + 64 & ~63, A = base, B = A + M * K * 4, C = B + K * N * 4;
  f.set(inputs[i].A, A >> 2); f.set(inputs[i].B, B >> 2);
  m.e.gemm_f32(tA, tB, M, N, K, 1, A, tA ? M : K, B, tB ? K : N, 0, C, N);
  return Array.from(f.subarray(C >> 2, (C >> 2) + M * N));
});
const plain = load('simd', false);
const out = { validRelaxed: false, results: {} };
const ref = run(plain);
for (const [b, shared] of [['relaxed', false], ['relaxed-threads', true]]) {
  const m = load(b, shared);
  out.results[b] = { valid: m.valid };
  if (!m.valid) continue;
  const got = run(m);
  let maxErr = 0, differ = 0, n = 0;
  got.forEach((c, i) => c.forEach((v, j) => { const r = ref[i][j]; maxErr = Math.max(maxErr, Math.abs(v - r) / (1 + Math.abs(r))); if (v !== r) differ++; n++; }));
  const sum = got.reduce((a, c) => c.reduce((x, v) => x + v, a), 0);
  out.results[b] = { valid: true, maxErr, differ, n, sum };
}
(async () => {
  if (existsSync(root + 'build/dist/index.js')) {
    const lib = await import(root + 'build/dist/index.js');
    const b1 = await lib.createBackend('wasm', { relaxedSimd: 'auto' });
    const b2 = await lib.createBackend('wasm', { relaxedSimd: true, threads: 2 });
    out.api = { auto: b1.features, threaded: b2.features };
    b2.dispose();
  }
  console.log(JSON.stringify(out));
})();
`;
    const stdout = execFileSync(process.execPath, [FLAG, '-e', script], { encoding: 'utf8', timeout: 30_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    for (const b of ['relaxed', 'relaxed-threads']) {
      const r = out.results[b];
      expect(r.valid, `${b} validates with ${FLAG}`).toBe(true);
      expect(r.n).toBeGreaterThan(10_000);
      expect(r.maxErr, `${b} max relative error vs plain SIMD`).toBeLessThan(2e-5);
      // f32x4.relaxed_madd runs fused on this engine (x86-64 with FMA, arm64: one rounding
      // instead of two): some results differ from the plain build's, so the relaxed code ran
      expect(r.differ, `${b}: results that differ from plain SIMD's, of ${r.n}`).toBeGreaterThan(0);
    }
    // the threaded relaxed build runs the same GEMM code on one thread: the same results
    expect(out.results['relaxed-threads'].sum).toBe(out.results.relaxed.sum);
    if (out.api) {
      expect(out.api.auto).toMatchObject({ simd: true, relaxedSimd: true, threads: 1 });
      expect(out.api.auto.relaxedSimdNote).toBeUndefined();
      expect(out.api.threaded).toMatchObject({ relaxedSimd: true, threads: 2 });
    }
  });
});

it('build/dist exists for the child-process API check (built by npm run build)', () => {
  expect(existsSync(`${root}build/dist/index.js`)).toBe(true);
});
