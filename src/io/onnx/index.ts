// ONNX export and import, on the library's own protobuf wire format (no dependency).
export { modelToOnnx, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT, ONNX_OUTPUT_PROBA, type OnnxExportOptions, type OnnxExportable } from './export.js';
export { modelFromOnnx, readOnnxArchitecture, type OnnxImportOptions, type OnnxArchitecture } from './import.js';
