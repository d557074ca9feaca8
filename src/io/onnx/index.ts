// ONNX export and import, over a protobuf wire format of its own (no dependency).
export { modelToOnnx, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT, ONNX_OUTPUT_PROBA, type OnnxExportOptions, type OnnxExportable } from './export.js';
export { modelFromOnnx, readOnnxArchitecture, type OnnxImportOptions, type OnnxArchitecture } from './import.js';
