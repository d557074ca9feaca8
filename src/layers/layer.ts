/**
 * The Layer contract, as in the course: forward keeps what backward needs, backward
 * returns the input gradient and leaves the parameter gradients (dW, db, ...) on the
 * layer. Every layer computes with backend kernels only and owns its output and
 * scratch buffers (DeviceBuffer), reused every step and grown only when a larger batch
 * arrives.
 *
 * Shapes always include the batch axis N. Inputs may be host tensors or device tensors
 * of another memory; they are copied into a layer-owned device buffer first.
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError } from '../errors.js';
import { Tensor, fmtShape, type Shape } from '../tensor.js';
import { DeviceBuffer, sameShape } from './buffer.js';

export type LayerType = 'Convolution' | 'Pooling' | 'Affine' | 'Relu' | 'Sigmoid' | 'Dropout' | 'BatchNormalization';

export interface Layer {
  readonly type: LayerType;
  /** Name used in error messages, e.g. 'Conv1' (set by the model) or the type name. */
  name: string;
  /** Trainable parameters by local name ('W', 'b' or 'gamma', 'beta'); device tensors. */
  readonly params: Readonly<Record<string, Tensor>>;
  /** Gradients of the parameters after backward, same local names; device tensors owned by the layer. */
  readonly grads: Readonly<Record<string, Tensor>>;
  /** Output shape for an input shape (both with the batch axis). Throws ShapeError naming the layer. */
  outputShape(inputShape: Shape): number[];
  /** Output tensor, owned by the layer and overwritten by the next forward. */
  forward(x: Tensor, train?: boolean): Tensor;
  /**
   * Gradient w.r.t. the input of the last forward (owned by the layer), or null when the
   * layer was told not to compute it (`inputGrad: false`, the first layer of a model).
   * Parameter gradients are overwritten (not accumulated).
   */
  backward(dout: Tensor): Tensor | null;
  /** Frees the layer's buffers and gradients (parameters passed in stay with their owner). */
  dispose(): void;
}

/**
 * Shared plumbing: device copies of host inputs, output buffers, forward/backward bookkeeping,
 * and for layers with parameters (local names `P`) the parameters, their gradients and the
 * device tensors the layer allocated for them.
 */
export abstract class LayerBase<P extends string = string> {
  abstract readonly type: LayerType;
  name: string;
  protected readonly owned: DeviceBuffer[] = [];
  /** Device tensors this layer allocated (parameter copies, gradients, state); disposed with it. */
  private readonly created: Tensor[] = [];
  private readonly paramTensors = {} as Record<P, Tensor>;
  private readonly gradTensors = {} as Record<P, Tensor>;
  private readonly inBuf: DeviceBuffer;
  private readonly doutBuf: DeviceBuffer;
  /** Shape of the last forward's output, for checking dout. */
  protected outShape: Shape | null = null;

  constructor(readonly backend: Backend, name: string) {
    this.name = name;
    this.inBuf = this.buffer();
    this.doutBuf = this.buffer();
  }

  get params(): Readonly<Record<P, Tensor>> {
    return { ...this.paramTensors };
  }

  get grads(): Readonly<Record<P, Tensor>> {
    return { ...this.gradTensors };
  }

  /** Parameter `key` on the device (a copy owned by the layer unless `t` already is), checked to be `rank`-D. */
  protected adoptParam(key: P, t: Tensor, rank: number): Tensor {
    const d = deviceParam(this.backend, this.name, key, t, rank);
    if (d !== t) this.ownTensor(d);
    this.paramTensors[key] = d;
    return d;
  }

  /** The zeroed gradient of parameter `key` (adopted before), owned by the layer. */
  protected gradFor(key: P): Tensor {
    const g = this.ownTensor(this.backend.zeros(this.paramTensors[key].shape));
    this.gradTensors[key] = g;
    return g;
  }

  /** `t`, now owned (and disposed) by this layer. */
  protected ownTensor(t: Tensor): Tensor {
    this.created.push(t);
    return t;
  }

  /** A new buffer owned (and disposed) by this layer. */
  protected buffer(): DeviceBuffer {
    const b = new DeviceBuffer(this.backend);
    this.owned.push(b);
    return b;
  }

  /** `x` itself when it lives in this backend's memory, else a copy in the layer's input buffer. */
  protected deviceInput(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new WasmCnnError(`${this.name}.forward: input must be a Tensor, got ${typeof x}`);
    return this.toDevice(x, this.inBuf);
  }

  /** Checks dout against the last forward's output shape and puts it on the device. */
  protected deviceDout(dout: Tensor): Tensor {
    if (!(dout instanceof Tensor)) throw new WasmCnnError(`${this.name}.backward: dout must be a Tensor, got ${typeof dout}`);
    if (!this.outShape) throw new WasmCnnError(`${this.name}.backward: call forward first`);
    if (!sameShape(dout.shape, this.outShape)) {
      throw new ShapeError(`${this.name}.backward: dout must have the forward output's shape ${fmtShape(this.outShape)}, got ${fmtShape(dout.shape)}`);
    }
    return this.toDevice(dout, this.doutBuf);
  }

  private toDevice(t: Tensor, buf: DeviceBuffer): Tensor {
    if (t.memory === this.backend.memory) return t;
    const d = buf.shaped(t.shape);
    d.data.set(t.data);
    return d;
  }

  dispose(): void {
    for (const b of this.owned) b.dispose();
    for (const t of this.created) t.dispose();
    this.created.length = 0;
    this.outShape = null;
  }
}

/** A parameter tensor on the device (the same tensor if it already is), checked for its shape. */
export function deviceParam(backend: Backend, where: string, what: string, t: Tensor, rank: number): Tensor {
  if (!(t instanceof Tensor)) throw new WasmCnnError(`${where}: ${what} must be a Tensor`);
  if (t.rank !== rank) throw new ShapeError(`${where}: ${what} must be ${rank}-D, got ${fmtShape(t.shape)}`);
  return backend.toDevice(t);
}
