/**
 * `wasm-cnn export PARAMS --out FILE [--format onnx]`: a trained parameter file (or an ONNX
 * model) written in an exchange format. ONNX: opset 13, input "input" (N, C, H, W) float32,
 * output "logits" (N, classes), or "probabilities" with --softmax. The output file is checked
 * before any work starts and written atomically.
 */
import { resolve } from 'node:path';
import { createBackend } from '../backend/create.js';
import type { BackendName } from '../backend/backend.js';
import { modelToOnnx } from '../io/onnx/export.js';
import { checkOutFile, writeOutFile } from './artifacts.js';
import { loadModelFile } from './models.js';

export const EXPORT_FORMATS = ['onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  out: string;
  format: ExportFormat;
  softmax?: boolean;
  force?: boolean;
  backend: BackendName;
  json?: boolean;
}

export async function exportCommand(paramsPath: string, opts: ExportOptions): Promise<number> {
  checkOutFile(opts.out, opts.force ?? false);
  const backend = await createBackend(opts.backend);
  const net = loadModelFile(paramsPath, backend);
  const bytes = modelToOnnx(net, { softmax: opts.softmax ?? false });
  writeOutFile(opts.out, bytes);
  const output = opts.softmax ? 'probabilities' : 'logits';
  if (opts.json) {
    process.stdout.write(JSON.stringify({ params: resolve(paramsPath), out: resolve(opts.out), format: opts.format, bytes: bytes.length,
      input: { name: 'input', shape: ['N', ...net.inputDim] }, output: { name: output, shape: ['N', net.outputSize] } }, null, 2) + '\n');
  } else {
    process.stdout.write(`wrote ${opts.out} (ONNX opset 13, ${bytes.length} bytes): input "input" (N, ${net.inputDim.join(', ')}) float32, output "${output}" (N, ${net.outputSize})\n`);
  }
  net.dispose();
  return 0;
}
