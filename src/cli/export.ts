/**
 * `wasm-cnn export PARAMS --out FILE [--format onnx|pytorch]`: a trained parameter file (or an
 * ONNX model) written in an exchange format. ONNX: opset 13, input "input" (N, C, H, W) float32,
 * output "logits" (N, classes), or "probabilities" with --softmax. PyTorch: the state dict of
 * the equivalent nn.Sequential as safetensors (saveParams({ layout: 'pytorch' })), whose Python
 * source is printed. The output file is checked before any work starts and written atomically.
 */
import { resolve } from 'node:path';
import { createBackend } from '../backend/create.js';
import type { BackendName } from '../backend/backend.js';
import { modelToOnnx } from '../io/onnx/export.js';
import type { Sequential } from '../models/sequential.js';
import { torchSequentialCode } from '../models/pytorch-layout.js';
import { checkOutFile, writeOutFile } from './artifacts.js';
import { CliError } from './errors.js';
import { loadModelFile } from './models.js';

export const EXPORT_FORMATS = ['onnx', 'pytorch'] as const;
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
  if (opts.format === 'pytorch' && opts.softmax) throw new CliError('--softmax is for --format onnx only (a PyTorch state dict holds parameters, not the graph)');
  checkOutFile(opts.out, opts.force ?? false);
  const backend = await createBackend(opts.backend);
  const net = loadModelFile(paramsPath, backend);
  if (opts.format === 'pytorch') return exportTorch(paramsPath, net, opts);
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

/** The state dict of the equivalent nn.Sequential, and that nn.Sequential's Python source on stdout. */
function exportTorch(paramsPath: string, net: Sequential, opts: ExportOptions): number {
  try {
    const bytes = net.saveParams({ layout: 'pytorch' });
    writeOutFile(opts.out, bytes);
    const layout = net.torchLayout();
    const code = torchSequentialCode(layout);
    if (opts.json) {
      process.stdout.write(JSON.stringify({ params: resolve(paramsPath), out: resolve(opts.out), format: opts.format, bytes: bytes.length,
        tensors: Object.fromEntries(layout.entries.map((e) => [e.torchName, e.torchShape])), sequential: code }, null, 2) + '\n');
    } else {
      process.stderr.write(`wrote ${opts.out} (PyTorch state dict, ${layout.entries.length} F32 tensors, ${bytes.length} bytes) for this nn.Sequential (from torch import nn):\n`);
      process.stdout.write(`${code}\n`);
    }
    return 0;
  } finally {
    net.dispose();
  }
}
