// The BassNet pad: song and model pickers, the 2-D pad, Web Audio playback of mix + bass,
// path recording, export links, and the song's density from the model's prior p(z|x) drawn
// over the pad. Talks to the JSON API of bassnet/serve/app.py.
"use strict";

const $ = (id) => document.getElementById(id);
const audio = new AudioContext();

// Everything the page knows; exposed as window.padState for the browser test and for curious
// users (each result: id, z or path, decoded length, a checksum of the samples, latency).
const state = {
  songs: [], models: [], song: null, model: null, z: null,
  mix: null, bass: null, results: [], busy: false, pending: null,
  playing: false, startedAt: 0, offset: 0, sources: [], gains: null,
  recording: false, path: [], lastRecord: 0, requested: null,
  // the prior's density for (model, song): its JSON (`data`), the mode and time last drawn,
  // the weights drawn, the z of the densest cell, how many times it was drawn, a note
  density: { data: null, key: null, grids: null, mode: "off", time: null, weights: null,
    peak: null, draws: 0, note: "" },
};
window.padState = state;

function status(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

async function api(url, options = {}) {
  const response = await fetch(url, options);
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(detail);
  }
  return response;
}

function fmtTime(s) {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s - 60 * m)).padStart(2, "0")}`;
}

// --- songs and models -------------------------------------------------------------------
async function loadLists() {
  state.models = (await (await api("/api/models")).json()).models;
  state.songs = (await (await api("/api/songs")).json()).songs;
  $("model").replaceChildren(...state.models.map((m) => new Option(m.label, m.name)));
  $("song").replaceChildren(...state.songs.map((s) => new Option(s.name, s.id)));
  // the first model that loads (each is loaded on its first pick)
  for (const m of state.models) if (await selectModel(m.name)) break;
  if (state.songs.length) await selectSong(state.songs[0].id);
  else status("No dataset songs here: upload one.");
}

async function selectModel(name) {
  $("model").value = name;
  try {  // the server loads a model when it is first picked; it may not be a model at all
    state.model = await (await api(`/api/models/${encodeURIComponent(name)}`)).json();
  } catch (err) {
    status(`Could not load the model: ${err.message}`, true);
    if (state.model) $("model").value = state.model.name;
    return false;
  }
  $("pad-map").src = `/api/models/${encodeURIComponent(name)}/pad.png`;
  $("trail").replaceChildren();
  placeDot(state.model.centre);
  loadDensity();
  if (state.song) await generate({ z: state.z || state.model.centre });
  return true;
}

async function selectSong(id) {
  stop();
  state.song = id;
  $("song").value = id;
  loadDensity();
  $("play").disabled = true;
  status("Loading the song…");
  try {
    const data = await (await api(`/api/songs/${encodeURIComponent(id)}/mix`)).arrayBuffer();
    state.mix = await audio.decodeAudioData(data);
    state.offset = 0;
    updateClock();
    $("play").disabled = false;
    await generate({ z: state.z || state.model.centre });
  } catch (err) {
    status(`Could not load the song: ${err.message}`, true);
  }
}

async function upload(file) {
  status(`Uploading ${file.name}…`);
  try {
    const url = `/api/songs?name=${encodeURIComponent(file.name)}`;
    // an explicit binary type: the server refuses uploads a cross-site form could send
    const headers = { "Content-Type": "application/octet-stream" };
    const song = await (await api(url, { method: "POST", headers, body: file })).json();
    if (!state.songs.find((s) => s.id === song.id)) {
      state.songs.push(song);
      $("song").add(new Option(`${song.name} (uploaded)`, song.id));
    }
    await selectSong(song.id);
  } catch (err) {
    status(`Upload refused: ${err.message}`, true);
  } finally {
    $("upload").value = "";
  }
}

// --- the pad ------------------------------------------------------------------------------
function zFromEvent(event) {
  const box = $("pad").getBoundingClientRect();
  const [x0, x1, y0, y1] = state.model.extent;
  const fx = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
  const fy = Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1);
  return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
}

function padPosition(z) {
  const [x0, x1, y0, y1] = state.model.extent;
  return [100 * (z[0] - x0) / (x1 - x0), 100 * (y1 - z[1]) / (y1 - y0)];
}

function placeDot(z) {
  state.z = z;
  const [left, top] = padPosition(z);
  Object.assign($("dot").style, { left: `${left}%`, top: `${top}%` });
  $("dot").hidden = false;
  $("z-readout").textContent = `z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})`;
}

function trailPoint(z) {
  const [left, top] = padPosition(z);
  const mark = document.createElement("span");
  Object.assign(mark.style, { left: `${left}%`, top: `${top}%` });
  $("trail").append(mark);
}

let dragging = false;
function onPadDown(event) {
  if (!state.model) return;
  dragging = true;
  $("pad").setPointerCapture(event.pointerId);
  if (state.recording && state.playing) $("trail").replaceChildren();
  movePad(event);
}
function onPadMove(event) { if (dragging) movePad(event); }
function onPadUp(event) { if (dragging) { dragging = false; movePad(event); } }

function movePad(event) {
  const z = zFromEvent(event);
  placeDot(z);
  if (state.recording && state.playing) {
    const t = position();
    if (t - state.lastRecord >= 0.05) {
      state.path.push([t, z[0], z[1]]);
      state.lastRecord = t;
      trailPoint(z);
    }
    return;  // the recorded path is generated when recording ends
  }
  // a click is a press and a release at the same point: one bass, not two
  if (state.requested && z[0] === state.requested[0] && z[1] === state.requested[1]) return;
  generate({ z });
}

// --- where to click: the song's density from the model's prior p(z|x) ------------------
const DENSITY_GRID = 48;  // cells per side where the mixture is evaluated
const DENSITY_RGB = [194, 24, 91];  // magenta: none of the pattern regions' colours
const DENSITY_ALPHA = 0.7;  // at the densest cell

function densityNote(text) {
  state.density.note = text;
  $("density-note").textContent = text;
}

// Ask for the density of the current model and song; answers for an earlier pair are dropped.
async function loadDensity() {
  const d = state.density;
  Object.assign(d, { data: null, grids: null, time: null, weights: null, peak: null });
  drawDensity(true);
  const key = d.key = state.model && state.song ? `${state.model.name}\n${state.song}` : null;
  if (!key) return;
  $("density-mode").disabled = !state.model.has_prior;
  if (!state.model.has_prior) {
    densityNote(`Model ${state.model.name} has no prior p(z|x): no density to show where to click.`);
    return;
  }
  densityNote("Reading where this song's bass probably lies…");
  const query = `model=${encodeURIComponent(state.model.name)}&song=${encodeURIComponent(state.song)}`;
  try {
    const data = await (await api(`/api/density?${query}`)).json();
    if (d.key !== key) return;
    d.data = data;
    d.grids = componentGrids(data, state.model.extent);
    densityNote("");
    drawDensity(true);
  } catch (err) {
    if (d.key === key) densityNote(`No density to show: ${err.message}`);
  }
}

// Each component's Gaussian density at the centres of a DENSITY_GRID² grid over the pad's
// extent, row by row from the top (z2 high) as the pad shows z.
function componentGrids(data, extent) {
  const [x0, x1, y0, y1] = extent;
  const n = DENSITY_GRID;
  return data.means.map(([mx, my], k) => {
    const [[a, b1], [b2, c]] = data.covariances[k];
    const b = (b1 + b2) / 2;
    const det = a * c - b * b;
    const norm = 1 / (2 * Math.PI * Math.sqrt(det));
    const grid = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      const dy = y1 - ((j + 0.5) / n) * (y1 - y0) - my;
      for (let i = 0; i < n; i++) {
        const dx = x0 + ((i + 0.5) / n) * (x1 - x0) - mx;
        grid[j * n + i] = norm * Math.exp(-0.5 * (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det);
      }
    }
    return grid;
  });
}

// The mixture weights at time t (s): linear between the two nearest windows.
function weightsAt(t) {
  const { weights, hop_s: hop } = state.density.data;
  const f = Math.min(Math.max(t / hop, 0), weights.length - 1);
  const i = Math.floor(f), frac = f - i, next = weights[Math.min(i + 1, weights.length - 1)];
  return weights[i].map((w, k) => (1 - frac) * w + frac * next[k]);
}

// Draw the density in the chosen mode: "song" (the whole song's average weights), "playing"
// (the weights at the playback position) or "off". Without `force`, only when it changed.
function drawDensity(force = false) {
  const d = state.density;
  const canvas = $("pad-density");
  const mode = d.data ? $("density-mode").value : "off";
  const t = mode === "playing" ? position() : null;
  if (!force && mode === d.mode && (mode !== "playing" || Math.abs(t - d.time) < 0.02)) return;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  d.mode = mode;
  d.time = t;
  canvas.dataset.mode = mode;
  if (mode === "off") { d.weights = null; d.peak = null; return; }
  const w = mode === "playing" ? weightsAt(t) : d.data.average;
  const n = DENSITY_GRID;
  const values = new Float64Array(n * n);
  let peak = 0;
  d.grids.forEach((grid, k) => { for (let c = 0; c < n * n; c++) values[c] += w[k] * grid[c]; });
  for (let c = 1; c < n * n; c++) if (values[c] > values[peak]) peak = c;
  const small = document.createElement("canvas");
  small.width = small.height = n;
  const image = small.getContext("2d").createImageData(n, n);
  const top = values[peak] || 1;
  for (let c = 0; c < n * n; c++) {
    image.data.set(DENSITY_RGB, 4 * c);
    image.data[4 * c + 3] = Math.round(255 * DENSITY_ALPHA * Math.pow(values[c] / top, 0.6));
  }
  small.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  const [x0, x1, y0, y1] = state.model.extent;
  d.weights = w;
  d.peak = [x0 + ((peak % n + 0.5) / n) * (x1 - x0), y1 - ((Math.floor(peak / n) + 0.5) / n) * (y1 - y0)];
  d.draws += 1;
  canvas.dataset.draws = String(d.draws);
}

// --- generation -------------------------------------------------------------------------
// One request at a time: while one runs, the latest wish waits and replaces older ones.
async function generate(target) {
  if (!state.song || !state.model) return;
  state.requested = target.z || null;
  if (state.busy) { state.pending = target; return; }
  state.busy = true;
  const clicked = performance.now();
  try {
    const body = { song: state.song, model: state.model.name, ...target };
    const result = await (await api("/api/generate", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    })).json();
    const data = await (await api(result.urls.bass_wav)).arrayBuffer();
    const buffer = await audio.decodeAudioData(data);
    state.bass = buffer;
    if (state.playing) restartBass();
    const latency = performance.now() - clicked;
    state.results.push({
      id: result.id, z: target.z || null, path: Boolean(target.path), notes: result.notes,
      samples: buffer.length, checksum: checksum(buffer), latencyMs: latency,
      computeMs: result.compute_ms, urls: result.urls,
    });
    setExports(result.urls);
    const where = target.path ? `along a path of ${target.path.length} points`
      : `at z = (${target.z[0].toFixed(2)}, ${target.z[1].toFixed(2)})`;
    const warn = result.warnings.length ? ` Note: ${result.warnings.join("; ")}.` : "";
    status(`Bass ${where}: ${result.notes} notes, ready in ${latency.toFixed(0)} ms.${warn}`);
  } catch (err) {
    status(`Could not generate: ${err.message}`, true);
  } finally {
    state.busy = false;
    if (state.pending) { const next = state.pending; state.pending = null; generate(next); }
  }
}

function checksum(buffer) {
  const data = buffer.getChannelData(0);
  let sum = 0;
  for (let i = 0; i < data.length; i += 7) sum += Math.abs(data[i]) * ((i % 97) + 1);
  return Math.round(sum * 1000) / 1000;
}

function setExports(urls) {
  const links = { "export-wav": urls.bass_wav, "export-midi": urls.midi,
    "export-mix": urls.mix_wav, "export-path": urls.path_csv };
  for (const [id, url] of Object.entries(links)) {
    $(id).classList.toggle("disabled", !url);
    if (url) $(id).href = url; else $(id).removeAttribute("href");
  }
}

// --- playback -----------------------------------------------------------------------------
function position() {
  if (!state.playing) return state.offset;
  return Math.min(state.offset + audio.currentTime - state.startedAt, state.mix.duration);
}

function gains() {
  const b = Number($("balance").value) / 100;  // equal-power crossfade
  return [Math.cos(b * Math.PI / 2), Math.sin(b * Math.PI / 2)];
}

function source(buffer, gain, at) {
  const node = audio.createBufferSource();
  const level = audio.createGain();
  node.buffer = buffer;
  level.gain.value = gain;
  node.connect(level).connect(audio.destination);
  node.start(0, at);
  return { node, level };
}

async function play() {
  await audio.resume();
  if (state.offset >= state.mix.duration) state.offset = 0;
  const [mixGain, bassGain] = gains();
  state.startedAt = audio.currentTime;
  state.sources = [source(state.mix, mixGain, state.offset)];
  if (state.bass) state.sources.push(source(state.bass, bassGain, state.offset));
  state.sources[0].node.onended = () => { if (state.playing) stop(true); };
  state.playing = true;
  state.path = [];
  state.lastRecord = -1;
  $("play").textContent = "Stop";
}

function restartBass() {
  const at = position();
  if (state.sources[1]) { state.sources[1].node.stop(); state.sources.pop(); }
  state.sources.push(source(state.bass, gains()[1], at));
}

function stop(ended = false) {
  if (!state.playing) return;
  state.offset = ended ? 0 : position();
  state.playing = false;
  for (const s of state.sources) { s.node.onended = null; s.node.stop(); }
  state.sources = [];
  $("play").textContent = "Play";
  finishRecording();
}

function finishRecording() {
  if (state.recording && state.path.length >= 2) {
    const path = state.path;
    state.path = [];
    generate({ path });
  }
}

function updateClock() {
  if (state.mix) $("clock").textContent = `${fmtTime(position())} / ${fmtTime(state.mix.duration)}`;
  if (state.mix) drawDensity();  // "as it plays" follows the playback position
  requestAnimationFrame(updateClock);
}

// --- wiring -------------------------------------------------------------------------------
$("song").addEventListener("change", (e) => selectSong(e.target.value));
$("model").addEventListener("change", (e) => selectModel(e.target.value));
$("upload").addEventListener("change", (e) => { if (e.target.files[0]) upload(e.target.files[0]); });
$("play").addEventListener("click", () => (state.playing ? stop() : play()));
$("balance").addEventListener("input", () => {
  const [mixGain, bassGain] = gains();
  if (state.sources[0]) state.sources[0].level.gain.value = mixGain;
  if (state.sources[1]) state.sources[1].level.gain.value = bassGain;
});
$("record").addEventListener("change", (e) => {
  if (!e.target.checked) finishRecording();
  state.recording = e.target.checked;
  state.path = [];
  if (state.recording) status("Recording: press Play and move on the pad; the path is generated when you stop.");
});
$("density-mode").addEventListener("change", () => drawDensity(true));
$("pad").addEventListener("pointerdown", onPadDown);
$("pad").addEventListener("pointermove", onPadMove);
$("pad").addEventListener("pointerup", onPadUp);

loadLists().catch((err) => status(`Could not reach the server: ${err.message}`, true));
