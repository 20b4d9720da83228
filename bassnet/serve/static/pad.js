// The BassNet pad: song and model pickers, the 2-D pad, Web Audio playback of mix + bass,
// path recording and export links. Talks to the JSON API of bassnet/serve/app.py.
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
  if (state.song) await generate({ z: state.z || state.model.centre });
  return true;
}

async function selectSong(id) {
  stop();
  state.song = id;
  $("song").value = id;
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
$("pad").addEventListener("pointerdown", onPadDown);
$("pad").addEventListener("pointermove", onPadMove);
$("pad").addEventListener("pointerup", onPadUp);

loadLists().catch((err) => status(`Could not reach the server: ${err.message}`, true));
