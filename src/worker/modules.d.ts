// Module types for wrangler's CompiledWasm and Data rules (see wrangler.toml).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*.onnx" {
  const data: ArrayBuffer;
  export default data;
}
declare module "*.jsonl" {
  const text: string;
  export default text;
}
