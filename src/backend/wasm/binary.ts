/**
 * Reads the minimum size (in 64 KiB pages) of the memory a Wasm module imports, from its
 * import section, so the memory handed to it is at least that large (the module's static
 * data, e.g. GEMM packing buffers, decides it). WebAssembly.Module.imports() does not say.
 */
export function importedMemoryMinPages(bytes: Uint8Array): number {
  let pos = 8; // magic + version
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const skipName = (): void => {
    const len = leb();
    pos += len;
  };
  const skipLimits = (): number => {
    const flags = bytes[pos++];
    const min = leb();
    if (flags & 1) leb();
    return min;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const end = pos + size;
    if (id === 2) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        skipName();
        skipName();
        const kind = bytes[pos++];
        if (kind === 0) leb(); // function: type index
        else if (kind === 1) { pos++; skipLimits(); } // table: reftype + limits
        else if (kind === 2) return skipLimits(); // memory
        else if (kind === 3) pos += 2; // global: valtype + mutability
        else throw new Error(`unexpected import kind ${kind} in the kernel module`);
      }
      return 0;
    }
    pos = end;
  }
  return 0;
}
