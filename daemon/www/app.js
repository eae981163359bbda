// SPDX-License-Identifier: BSD-2-Clause
// crispd's status page: polls GET /status, refreshes the input and output
// previews (GET /preview.jpg) several times a second while the page is
// visible, and sends the controls to POST /control. Same origin only; with
// a token the browser sends it as the password of HTTP Basic auth.
'use strict';

const $ = (id) => document.getElementById(id);
const PREVIEW_MS = 150;   // pause between preview refreshes (about 5 a second)
const STATUS_MS = 1000;

let lastStatus = null;
let sending = false;

function showError(msg) {
  $('err').textContent = msg || '';
}

async function control(fields) {
  const body = new URLSearchParams(fields).toString();
  sending = true;
  try {
    const r = await fetch('/control', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    const js = await r.json();
    if (!r.ok) {
      showError(js.error || ('HTTP ' + r.status));
      return;
    }
    showError('');
    render(js);
  } catch (e) {
    showError('crispd does not answer: ' + e.message);
  } finally {
    sending = false;
  }
}

function fmt(x, d) {
  return typeof x === 'number' ? x.toFixed(d) : '–';
}

function render(s) {
  lastStatus = s;
  const state = $('state');
  state.textContent = s.bypass ? 'bypass' : ('source ' + s.source_state);
  state.className = 'pill ' + (s.source_state === 'live' ? 'live' : 'bad');
  $('fps').textContent = fmt(s.fps_out, 1);
  $('lat').textContent = fmt(s.latency_ms.p50, 1) + ' / ' + fmt(s.latency_ms.p99, 1);
  $('inf').textContent = fmt(s.infer_ms.p50, 1) + ' / ' + fmt(s.infer_ms.p99, 1);
  $('frames').textContent = s.frames_in + ' / ' + s.frames_out;
  $('drops').textContent = s.dropped_capture + ', ' + s.dropped_infer + ', ' + s.dropped_sink;
  $('repeats').textContent = s.frames_repeated + ' / ' + s.frames_no_signal;
  $('model-now').textContent = s.model;
  $('source').textContent = s.source + ' (' + s.size + ')';
  $('sink').textContent = s.sink;
  $('uptime').textContent = Math.round(s.uptime_s) + ' s';
  if (!sending && document.activeElement !== $('strength')) {
    $('strength').value = s.strength;
    $('strength-val').textContent = s.strength.toFixed(2);
  }
  if (!sending)
    $('bypass').checked = s.bypass;
  const sel = $('model');
  if (document.activeElement !== sel && [...sel.options].some((o) => o.value === s.model) && !sel.dataset.auto)
    sel.value = s.model;
}

async function pollStatus() {
  try {
    const r = await fetch('/status');
    if (r.ok)
      render(await r.json());
    else
      showError((await r.json()).error || ('HTTP ' + r.status));
  } catch (e) {
    showError('crispd does not answer: ' + e.message);
  }
  setTimeout(pollStatus, STATUS_MS);
}

// one JPEG as an object URL, or null
async function grab(side) {
  const r = await fetch('/preview.jpg?side=' + side);
  if (!r.ok)
    return null;
  return URL.createObjectURL(await r.blob());
}

function setSrc(ids, url) {
  for (const id of ids) {
    const img = $(id);
    const old = img.dataset.url;
    img.src = url;
    img.dataset.url = url;
    if (old && !ids.slice(1).includes(id))
      setTimeout(() => URL.revokeObjectURL(old), 1000);
  }
}

async function pollPreview() {
  if (document.visibilityState === 'visible') {
    try {
      const [a, b] = await Promise.all([grab('in'), grab('out')]);
      if (a) setSrc(['in-img', 'split-in'], a);
      if (b) setSrc(['out-img', 'split-out'], b);
    } catch (e) {
      // crispd stopped: the status poll says so
    }
  }
  setTimeout(pollPreview, PREVIEW_MS);
}

// the split view's divider: pointer drag and arrow keys
function setSplit(frac) {
  frac = Math.min(1, Math.max(0, frac));
  $('split-in').style.clipPath = 'inset(0 ' + ((1 - frac) * 100).toFixed(2) + '% 0 0)';
  $('divider').style.left = (frac * 100).toFixed(2) + '%';
  $('split').dataset.at = frac.toFixed(3);
}

function initSplit() {
  const box = $('split');
  let dragging = false;
  const move = (e) => {
    const r = box.getBoundingClientRect();
    setSplit((e.clientX - r.left) / r.width);
  };
  box.addEventListener('pointerdown', (e) => {
    e.preventDefault(); // no native drag of the picture
    dragging = true;
    box.setPointerCapture(e.pointerId);
    move(e);
  });
  box.addEventListener('pointermove', (e) => dragging && move(e));
  box.addEventListener('pointerup', () => { dragging = false; });
  box.addEventListener('pointercancel', () => { dragging = false; });
  box.addEventListener('keydown', (e) => {
    const at = parseFloat(box.dataset.at || '0.5');
    if (e.key === 'ArrowLeft') setSplit(at - 0.05);
    if (e.key === 'ArrowRight') setSplit(at + 0.05);
  });
  setSplit(0.5);
}

async function initModels() {
  try {
    const r = await fetch('/models');
    const js = await r.json();
    const sel = $('model');
    const names = js.auto ? ['auto'].concat(js.models) : js.models;
    for (const m of names) {
      const o = document.createElement('option');
      o.value = m;
      o.textContent = m === 'auto' ? 'auto (by speed)' : m;
      sel.appendChild(o);
    }
    if (js.auto) {
      sel.value = 'auto';
      sel.dataset.auto = '1';
    }
  } catch (e) {
    showError('cannot list the models: ' + e.message);
  }
}

function initControls() {
  let timer = null;
  const s = $('strength');
  s.addEventListener('input', () => {
    $('strength-val').textContent = parseFloat(s.value).toFixed(2);
    clearTimeout(timer);
    timer = setTimeout(() => control({ strength: s.value }), 120);
  });
  $('bypass').addEventListener('change', (e) => control({ bypass: e.target.checked ? 'on' : 'off' }));
  $('model').addEventListener('change', (e) => {
    const sel = e.target;
    if (sel.value === 'auto') sel.dataset.auto = '1'; else delete sel.dataset.auto;
    control({ model: sel.value });
  });
}

initSplit();
initControls();
initModels();
pollStatus();
pollPreview();
