/**
 * Typed views over a backend's linear memory for the plain-JS kernels. Views are
 * re-derived whenever the memory has grown (growth detaches the old ArrayBuffer).
 * Kernel pointers are byte offsets: index = ptr >> 2 for f32 and i32 buffers.
 */
export class Heap {
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private f32View: Float32Array;
  private i32View: Int32Array;

  constructor(readonly memory: WebAssembly.Memory) {
    this.buffer = memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
  }

  private refresh(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32View = new Float32Array(this.buffer);
      this.i32View = new Int32Array(this.buffer);
    }
  }

  get f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  get i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }
}
