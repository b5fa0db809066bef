// Salient explorer: the page over the JSON API of docs/server.md. Plain JavaScript, no build step.
// One stream of requests: while one frame is being explained the next waits (and only the newest
// waiting frame is kept), as the Deep Visualization Toolbox did with its camera.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  models: [], methods: [], layers: [],
  model: null, method: "gradcam", cls: "auto",
  layer: null, channel: null,
  image: null,          // the current image: a Blob (upload or camera frame) or {folder: name}
  imageVersion: 0,      // bumped whenever the image changes
  busy: false, again: false,
  webcam: null,         // the MediaStream while the camera runs
  visToken: 0, topToken: 0,
  folder: false,
  lastActivations: null,
};

function setStatus(text, error) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", !!error);
}

async function api(path, options) {
  const r = await fetch(path, options);
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) throw new Error(body && body.error ? body.error : `${r.status} ${r.statusText}`);
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  return q.toString();
}

function imageForm(extra) {
  const f = new FormData();
  if (state.image instanceof Blob) f.append("image", state.image, state.image.name || "frame.jpg");
  else if (state.image && state.image.folder) f.append("folderImage", state.image.folder);
  f.append("model", state.model);
  for (const [k, v] of Object.entries(extra)) if (v !== null && v !== undefined) f.append(k, v);
  return f;
}

// ---- start-up -------------------------------------------------------------------------------

async function init() {
  try {
    const [models, methods, images] = await Promise.all([api("/api/models"), api("/api/methods"), api("/api/images")]);
    state.models = models.models;
    state.methods = methods.methods;
    const ms = $("model");
    for (const m of state.models) ms.append(new Option(`${m.name} (${m.input.width}×${m.input.height}, ${m.classes} classes)`, m.name));
    state.model = state.models[0].name;
    const sel = $("method");
    for (const m of state.methods) {
      const o = new Option(m.name, m.name);
      o.title = m.summary;
      sel.append(o);
    }
    sel.value = state.method;
    state.folder = images.available;
    if (images.available) {
      const fs = $("folder-image");
      for (const name of images.images) fs.append(new Option(name, name));
      fs.hidden = false;
    }
    const url = new URLSearchParams(location.search);
    if (url.get("model") && state.models.some((m) => m.name === url.get("model"))) { state.model = url.get("model"); ms.value = state.model; }
    await loadLayers();
    document.body.dataset.state = "ready";
    setStatus("ready: choose an image");
    applyLink(url);
  } catch (e) {
    setStatus(`could not start: ${e.message}`, true);
  }
}

/** A link can open a view: ?image=NAME (of the folder)&method=…&class=…&layer=…&channel=…. */
function applyLink(url) {
  if (url.get("method")) { state.method = url.get("method"); $("method").value = state.method; }
  if (url.get("class")) state.cls = url.get("class");
  if (url.get("layer")) {
    if (state.layers.some((l) => l.name === url.get("layer") && l.shape.length === 4)) {
      state.layer = url.get("layer");
      $("grid-layer").textContent = "· " + state.layer;
      renderLayers();
    } else setStatus(`the link's layer '${url.get("layer")}' is not a 4-D layer of ${state.model}; showing ${state.layer}`, true);
  }
  if (url.get("image") && state.folder) {
    $("folder-image").value = url.get("image");
    setImage({ folder: url.get("image") }, "/api/images/file?" + query({ name: url.get("image") }));
    const c = parseInt(url.get("channel"), 10);
    if (state.layer && Number.isInteger(c) && c >= 0) chooseChannel(c);
  }
}

async function loadLayers() {
  const doc = await api("/api/layers?" + query({ model: state.model }));
  state.layers = doc.layers;
  state.channel = null;
  clearGrid();
  $("channel-panel").hidden = true;
  // The model's default target layer is chosen to begin with.
  state.layer = doc.defaultLayer;
  $("grid-layer").textContent = state.layer ? "· " + state.layer : "";
  renderLayers();
}

function renderLayers() {
  const all = $("all-layers").checked;
  const body = $("layers").tBodies[0];
  body.replaceChildren();
  for (const l of state.layers) {
    const spatial = l.shape.length === 4 && l.channels > 0;
    if (!all && !(spatial && l.candidate)) continue;
    const tr = document.createElement("tr");
    tr.dataset.layer = l.name;
    tr.tabIndex = 0;
    if (!spatial) tr.classList.add("disabled");
    if (l.name === state.layer) tr.classList.add("selected");
    for (const text of [l.name, l.op, "[" + l.shape.join(",") + "]"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const choose = () => { if (spatial) chooseLayer(l.name); };
    tr.addEventListener("click", choose);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
    body.append(tr);
  }
  const selected = body.querySelector("tr.selected");
  if (selected) selected.scrollIntoView({ block: "nearest" });
}

// ---- choosing things ------------------------------------------------------------------------

function setImage(image, preview) {
  state.image = image;
  state.imageVersion++;
  if (preview !== undefined) {
    const img = $("input-image");
    if (preview) { img.src = preview; img.hidden = false; } else img.hidden = true;
  }
  $("placeholder").hidden = true;
  refresh();
}

function chooseLayer(name) {
  state.layer = name;
  state.channel = null;
  $("channel-panel").hidden = true;
  for (const tr of $("layers").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.layer === name);
  $("grid-layer").textContent = "· " + name;
  $("grid").dataset.layer = name;
  refresh();
}

function chooseChannel(c) {
  state.channel = c;
  const panel = $("channel-panel");
  panel.hidden = false;
  panel.dataset.channel = String(c);
  $("channel-title").textContent = `Channel ${c} of ${state.layer}`;
  drawGrid();
  refresh();
  visualize();
  topImages();
}

// ---- the request stream ---------------------------------------------------------------------

/** Explains the current image (and its activations); a call while one is in flight runs once more afterwards. */
async function refresh() {
  if (!state.image) return;
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  document.body.dataset.state = "busy";
  try {
    do {
      state.again = false;
      await explainOnce();
      if (state.layer) await activationsOnce();
    } while (state.again);
    setStatus(state.webcam ? "webcam: live" : "ready");
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    state.busy = false;
    document.body.dataset.state = "ready";
  }
}

async function explainOnce() {
  const started = performance.now();
  const doc = await api("/api/explain", { method: "POST", body: imageForm({ method: state.method, class: state.cls, format: "png" }) });
  showPredictions(doc.top, doc.class);
  const img = $("overlay");
  img.src = doc.overlay;
  img.hidden = false;
  img.dataset.class = String(doc.class);
  img.dataset.method = doc.method;
  img.dataset.layer = doc.layer;
  const crop = $("crop");
  const d = doc.displayCrop;
  const whole = d.x <= 0.5 && d.y <= 0.5 && Math.abs(d.width - d.imageWidth) < 1 && Math.abs(d.height - d.imageHeight) < 1;
  crop.hidden = whole;
  if (!whole) {
    crop.style.left = (100 * d.x / d.imageWidth) + "%";
    crop.style.top = (100 * d.y / d.imageHeight) + "%";
    crop.style.width = (100 * d.width / d.imageWidth) + "%";
    crop.style.height = (100 * d.height / d.imageHeight) + "%";
  }
  const agnostic = doc.classAgnostic ? " (class-agnostic)" : "";
  $("overlay-caption").textContent =
    `${doc.method} on ${doc.layer} for ${doc.class} ${doc.label}${agnostic}, p = ${doc.probability.toFixed(3)} · ${Math.round(performance.now() - started)} ms`;
}

function showPredictions(top, chosen) {
  const ol = $("predictions");
  ol.replaceChildren();
  for (const p of top) {
    const li = document.createElement("li");
    li.dataset.class = String(p.class);
    li.tabIndex = 0;
    li.classList.toggle("chosen", p.class === chosen);
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = Math.max(1, Math.round(100 * p.probability)) + "%";
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = `${p.label} (${p.class}) ${(100 * p.probability).toFixed(1)} %`;
    li.append(bar, text);
    const choose = () => chooseClass(String(p.class));
    li.addEventListener("click", choose);
    li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
    ol.append(li);
  }
  // The class list: top-1 (follows the image), the current top-5, and the pinned class.
  const sel = $("class");
  const keep = state.cls;
  sel.replaceChildren(new Option("top-1 (follows the image)", "auto"));
  const seen = new Set();
  for (const p of top) { sel.append(new Option(`${p.class} ${p.label}`, String(p.class))); seen.add(String(p.class)); }
  if (keep !== "auto" && !seen.has(keep)) sel.append(new Option(`${keep} (pinned)`, keep));
  sel.value = keep;
}

function chooseClass(value) {
  state.cls = value;
  $("class").value = value;
  refresh();
}

async function activationsOnce() {
  const doc = await api("/api/activations", {
    method: "POST",
    body: imageForm({ layer: state.layer, top: 8, channel: state.channel === null ? null : state.channel }),
  });
  state.lastActivations = doc;
  const sprite = new Image();
  sprite.src = doc.sprite;
  await sprite.decode();
  state.sprite = sprite;
  drawGrid();
  const list = $("top-channels");
  list.replaceChildren();
  doc.top.forEach((c, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.channel = String(c);
    b.textContent = `#${i + 1}: ch ${c} (${doc.means[c].toFixed(2)})`;
    b.classList.toggle("selected", c === state.channel);
    b.addEventListener("click", () => chooseChannel(c));
    list.append(b);
  });
  if (doc.channel) {
    const img = $("channel-overlay");
    img.src = doc.channel.overlay;
    img.dataset.channel = String(doc.channel.index);
  }
}

// ---- the activation grid --------------------------------------------------------------------

function clearGrid() {
  const c = $("grid");
  c.width = 10; c.height = 10;
  c.getContext("2d").clearRect(0, 0, 10, 10);
  $("top-channels").replaceChildren();
  state.lastActivations = null;
  state.sprite = null;
}

function gridGeometry(doc) {
  // Whole pixels per activation, about 720 px across (the canvas is then fitted to the panel by CSS),
  // and a dark line between tiles once they are big enough to need one.
  const s = Math.max(1, Math.round(720 / (doc.columns * doc.width)));
  const tw = doc.width * s, th = doc.height * s;
  return { s, tw, th, gap: tw >= 12 ? 2 : 0 };
}

function drawGrid() {
  const doc = state.lastActivations, sprite = state.sprite;
  if (!doc || !sprite) return;
  const { tw, th, gap } = gridGeometry(doc);
  const rows = Math.ceil(doc.channels / doc.columns);
  const canvas = $("grid");
  canvas.width = doc.columns * (tw + gap) - gap;
  canvas.height = rows * (th + gap) - gap;
  canvas.dataset.layer = doc.layer;
  canvas.dataset.channels = String(doc.channels);
  const g = canvas.getContext("2d");
  g.imageSmoothingEnabled = false;
  g.fillStyle = "#111";
  g.fillRect(0, 0, canvas.width, canvas.height);
  const origin = (c) => [(c % doc.columns) * (tw + gap), Math.floor(c / doc.columns) * (th + gap)];
  for (let c = 0; c < doc.channels; c++) {
    const [x, y] = origin(c);
    g.drawImage(sprite, (c % doc.columns) * doc.width, Math.floor(c / doc.columns) * doc.height, doc.width, doc.height, x, y, tw, th);
  }
  const frame = (c, color, width) => {
    const [x, y] = origin(c);
    g.strokeStyle = color;
    g.lineWidth = width;
    g.strokeRect(x + width / 2, y + width / 2, tw - width, th - width);
  };
  for (const c of doc.top) frame(c, "#ff8c00", Math.max(1, Math.round(tw / 12)));
  if (state.channel !== null) frame(state.channel, "#00e5ff", Math.max(2, Math.round(tw / 8)));
}

$("grid").addEventListener("click", (e) => {
  const doc = state.lastActivations;
  if (!doc) return;
  const canvas = $("grid");
  const r = canvas.getBoundingClientRect();
  const x = (e.clientX - r.left) * canvas.width / r.width, y = (e.clientY - r.top) * canvas.height / r.height;
  const { tw, th, gap } = gridGeometry(doc);
  const col = Math.floor(x / (tw + gap)), row = Math.floor(y / (th + gap));
  const c = row * doc.columns + col;
  if (col < doc.columns && c >= 0 && c < doc.channels) chooseChannel(c);
});

// ---- a channel: feature visualization and top images -----------------------------------------

async function visualize() {
  const token = ++state.visToken;
  const img = $("channel-vis"), bar = $("vis-progress"), status = $("vis-status");
  img.hidden = true;
  bar.hidden = false;
  bar.value = 0;
  status.textContent = "feature visualization: starting…";
  status.dataset.status = "queued";
  const params = query({ model: state.model, layer: state.layer, channel: state.channel });
  while (token === state.visToken) {
    let doc;
    try { doc = await api("/api/visualize?" + params); }
    catch (e) { status.textContent = `feature visualization failed: ${e.message}`; status.dataset.status = "failed"; return; }
    if (token !== state.visToken) return;
    status.dataset.status = doc.status;
    if (doc.status === "done") {
      img.src = doc.image;
      img.hidden = false;
      bar.hidden = true;
      status.textContent = `feature visualization (${doc.steps} steps${doc.cached ? ", cached" : ""})`;
      return;
    }
    if (doc.status === "failed") { status.textContent = `feature visualization failed: ${doc.error}`; bar.hidden = true; return; }
    bar.max = doc.steps;
    bar.value = doc.step;
    status.textContent = doc.status === "queued" ? "feature visualization: waiting for another one to finish…" : `feature visualization: step ${doc.step} of ${doc.steps}`;
    await new Promise((r) => setTimeout(r, 400));
  }
}

async function topImages() {
  const token = ++state.topToken;
  const box = $("top-images");
  const status = document.createElement("p");
  status.className = "small";
  status.id = "top-images-status";
  box.replaceChildren(status);
  if (!state.folder) { status.textContent = "start the server with --images FOLDER to see which of its images excite this channel most"; return; }
  status.textContent = "ranking the folder's images (the first time for a layer takes a while)…";
  try {
    const doc = await api("/api/topimages?" + query({ model: state.model, layer: state.layer, channel: state.channel, count: 6 }));
    if (token !== state.topToken) return;
    status.textContent = `the ${doc.images.length} of ${doc.ranked} images with the highest mean activation` + (doc.failed ? ` (${doc.failed} could not be read)` : "");
    for (const im of doc.images) {
      const fig = document.createElement("figure");
      fig.className = "top-image";
      const img = document.createElement("img");
      img.src = im.overlay;
      img.alt = `${im.image}: activation of channel ${doc.channel}`;
      const cap = document.createElement("figcaption");
      cap.textContent = `${im.image} · mean ${im.mean.toFixed(2)}`;
      fig.append(img, cap);
      box.append(fig);
    }
  } catch (e) {
    if (token === state.topToken) status.textContent = `top images failed: ${e.message}`;
  }
}

// ---- inputs ---------------------------------------------------------------------------------

$("file").addEventListener("change", (e) => {
  const f = e.target.files[0];
  if (!f) return;
  stopWebcam();
  setImage(f, URL.createObjectURL(f));
});

$("folder-image").addEventListener("change", (e) => {
  const name = e.target.value;
  if (!name) return;
  stopWebcam();
  setImage({ folder: name }, "/api/images/file?" + query({ name }));
});

document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  const f = e.dataTransfer.files[0];
  if (f) { stopWebcam(); setImage(f, URL.createObjectURL(f)); }
});

$("model").addEventListener("change", async (e) => {
  state.model = e.target.value;
  state.cls = "auto";
  await loadLayers();
  refresh();
});
$("method").addEventListener("change", (e) => { state.method = e.target.value; refresh(); });
$("class").addEventListener("change", (e) => chooseClass(e.target.value));
$("all-layers").addEventListener("change", renderLayers);

// ---- the webcam: frames as fast as the server answers them (at most ~8 per second) -------------

$("webcam").addEventListener("click", () => (state.webcam ? stopWebcam() : startWebcam()));

async function startWebcam() {
  try {
    state.webcam = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    setStatus(`no camera: ${e.message}`, true);
    return;
  }
  const video = $("video");
  video.srcObject = state.webcam;
  video.hidden = false;
  $("input-image").hidden = true;
  $("placeholder").hidden = true;
  $("webcam").textContent = "stop webcam";
  $("webcam").classList.add("live");
  document.body.dataset.webcam = "on";
  await video.play().catch(() => {});
  frameLoop(state.webcam);
}

function stopWebcam() {
  if (!state.webcam) return;
  for (const t of state.webcam.getTracks()) t.stop();
  state.webcam = null;
  $("video").hidden = true;
  $("webcam").textContent = "webcam";
  $("webcam").classList.remove("live");
  document.body.dataset.webcam = "off";
}

async function frameLoop(stream) {
  const video = $("video");
  const canvas = document.createElement("canvas");
  let frames = 0;
  while (state.webcam === stream) {
    const started = performance.now();
    if (video.videoWidth > 0) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85));
      if (blob && state.webcam === stream) {
        state.image = blob;
        state.imageVersion++;
        await refresh();                 // one request stream: the next frame is taken when this one is answered
        document.body.dataset.frames = String(++frames);
      }
    }
    const wait = Math.max(0, 125 - (performance.now() - started));
    await new Promise((r) => setTimeout(r, wait));
  }
}

init();
