// Runs a model written by `salient export` with onnxruntime-node — no Salient, no autograd.
// usage: node run-exported.js model.gradcam.onnx   (npm install onnxruntime-node first)
const ort = require('onnxruntime-node');
(async () => {
  const session = await ort.InferenceSession.create(process.argv[2]);
  const [n, c, h, w] = [1, 3, 224, 224];   // the input as exported (NCHW, ImageNet-normalized pixels)
  const image = new ort.Tensor('float32', new Float32Array(n * c * h * w).fill(0.5), [n, c, h, w]);
  const cls = new ort.Tensor('int64', BigInt64Array.from([-1n]), [n]);   // -1 = top-1 class
  const { logits, map } = await session.run({ [session.inputNames[0]]: image, class: cls });
  const top = logits.data.indexOf(Math.max(...logits.data));
  console.log(`class ${top}; map ${map.dims.join('x')}, max ${Math.max(...map.data).toFixed(3)}`);
})();
