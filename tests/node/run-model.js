// Test support: runs an ONNX model with onnxruntime-node (no Salient code involved).
// usage: node run-model.js MODEL.onnx SPEC.json OUT_DIR
// SPEC.json: { "inputs": { NAME: { "file": F, "type": "float32"|"int64"|"uint8", "dims": [...] } } }
// Writes each output as OUT_DIR/NAME.bin (float32, little-endian) and OUT_DIR/outputs.json (dims).
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const arrays = { float32: Float32Array, int64: BigInt64Array, uint8: Uint8Array };

async function main() {
  const [modelPath, specPath, outDir] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = {};
  for (const [name, inp] of Object.entries(spec.inputs)) {
    const bytes = fs.readFileSync(inp.file);
    const Ctor = arrays[inp.type];
    const data = new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    feeds[name] = new ort.Tensor(inp.type, data, inp.dims);
  }
  const results = await session.run(feeds);
  const dims = {};
  for (const [name, t] of Object.entries(results)) {
    fs.writeFileSync(path.join(outDir, name + '.bin'), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    dims[name] = t.dims;
  }
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify({ runtime: 'onnxruntime-node ' + ort.env.versions.node, dims }));
}

main().catch(e => { console.error(e.stack || String(e)); process.exit(1); });
