// build/*.wasm files are imported as bytes (esbuild's `binary` loader; a small plugin in vitest.config.ts).
declare module '*.wasm' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
