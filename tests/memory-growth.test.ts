// Memory growth detaches every old view of the backend memory. Kernels take byte offsets
// and tensors re-derive their views, so results must not change when the memory grows
// between (or during) kernel calls.
import { describe, it, expect } from 'vitest';
import { createBackend } from '../src/backend/create.js';
import type { Backend } from '../src/backend/backend.js';
import { BACKENDS, randomF32 } from './helpers/harness.js';
import { avgPool, conv2d, maxPool } from '../src/ops/index.js';

const XS = [4, 3, 29, 23];
const WS = [5, 3, 3, 3];
const XD = randomF32(4 * 3 * 29 * 23, 1);
const WD = randomF32(5 * 3 * 3 * 3, 2);
const BD = randomF32(5, 3);
const MB = 1 << 20;

/** conv2d (with bias, pad 1) then 2x2 max pooling and 3x3/2 max pooling; the outputs as host copies. */
function run(be: Backend, growBetween: boolean): Float32Array[] {
  const x = be.tensor(XD, XS);
  const w = be.tensor(WD, WS);
  const b = be.tensor(BD, [5]);
  const grow = () => {
    if (!growBetween) return;
    const before = be.memoryStats().grows;
    const big = be.memory.alloc(be.memory.buffer.byteLength + 4 * MB); // past the end: must grow
    expect(be.memoryStats().grows).toBe(before + 1);
    be.memory.release(big);
  };
  grow();
  const y = conv2d(be, x, w, b, { stride: 1, pad: 1 });
  grow();
  const p = maxPool(be, y, { size: 2, stride: 2 });
  grow();
  const q = maxPool(be, y, { size: 3, stride: 2, pad: 1 });
  grow();
  const a = avgPool(be, y, { size: 2 });
  const out = [y, p, q, a].map((t) => t.toArray());
  [x, w, b, y, p, q, a].forEach((t) => t.dispose());
  return out;
}

describe.each(BACKENDS)('memory growth (%s backend)', (name) => {
  it('conv2d / pooling results are bit-identical with and without growth between calls', async () => {
    const still = await createBackend(name, { initialBytes: 64 * MB });
    const ref = run(still, false);
    expect(still.memoryStats().grows).toBe(0);

    const growing = await createBackend(name, { initialBytes: 65536 });
    const got = run(growing, true);
    expect(growing.memoryStats().grows).toBeGreaterThanOrEqual(4);
    got.forEach((g, i) => expect(g).toEqual(ref[i]));
  });

  it('results are bit-identical when the memory grows inside an op (output and scratch allocation)', async () => {
    const still = await createBackend(name, { initialBytes: 64 * MB });
    const ref = run(still, false);
    // one page: the inputs fit, conv2d's output and col scratch do not
    const tight = await createBackend(name, { initialBytes: 65536 });
    const got = run(tight, false);
    expect(tight.memoryStats().grows).toBeGreaterThanOrEqual(1);
    got.forEach((g, i) => expect(g).toEqual(ref[i]));
  });

  it("a tensor's .data stays valid (same values) after growth; old views are detached", async () => {
    const be = await createBackend(name, { initialBytes: 65536 });
    const t = be.tensor(XD, XS);
    const old = t.data;
    expect(old.length).toBe(XD.length);
    const big = be.empty([2 * MB]); // 8 MB
    expect(be.memoryStats().grows).toBeGreaterThanOrEqual(1);
    expect(old.byteLength).toBe(0); // the pre-growth view is detached
    expect(t.data.buffer).toBe(be.memory.buffer);
    expect(t.data).toEqual(XD);
    // writes through the new view reach the kernels
    t.data[0] = 42;
    const y = maxPool(be, t, { size: 1 });
    expect(y.data[0]).toBe(42);
    big.dispose();
  });
});
