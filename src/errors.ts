/** Every error the library raises on bad input is a WasmCnnError (or a subclass). */
export class WasmCnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor or option has the wrong shape, size or value. The message names the op or layer. */
export class ShapeError extends WasmCnnError {}

/** A file (IDX, safetensors, PNG) is malformed. The message says what is wrong and at which byte. */
export class FormatError extends WasmCnnError {}

/** Training produced NaN or Infinity. */
export class DivergenceError extends WasmCnnError {}
