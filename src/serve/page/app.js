// lstm-cuda serve page: a client of the JSON API (see src/serve/server.ts). Sample streams tokens from
// POST /api/sample/stream (server-sent events read from a fetch body, so a Stop or a closed tab aborts
// the request and the server stops generating); Training follows GET /api/run/events; Chat posts to
// /api/chat with a conversation id kept per browser tab.

const $ = (sel) => document.querySelector(sel);
const fmt = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
let run = null;

// ---------------------------------------------------------------- tabs
for (const b of document.querySelectorAll('.tab')) {
  b.addEventListener('click', () => showPanel(b.dataset.panel));
}
function showPanel(name) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.panel === name);
  for (const p of document.querySelectorAll('.panel')) p.classList.toggle('active', p.id === `panel-${name}`);
  if (name === 'training') drawPlot();
  history.replaceState(null, '', `#${name}`);
}

function showError(el, message) {
  el.textContent = message;
  el.hidden = !message;
}

/** reads an error reply ({ error }) or the status line */
async function errorOf(res) {
  try { return (await res.json()).error ?? `HTTP ${res.status}`; } catch { return `HTTP ${res.status} ${res.statusText}`; }
}

/** yields { event, data } from a text/event-stream response body */
async function* sseEvents(res) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) yield { event, data: JSON.parse(data) };
    }
  }
}

// ---------------------------------------------------------------- run info
function showRun(info) {
  run = info;
  $('#run-name').textContent = info.dir.split(/[\\/]/).filter(Boolean).pop() ?? info.dir;
  $('#run-name').title = info.dir;
  const c = info.checkpoint;
  $('#run-status').textContent = c
    ? `step ${c.step} · ${c.config.numLayers}×${c.config.hiddenSize} LSTM · ${c.vocab.size} symbols (${c.vocab.mode}) · ${c.device}`
    : info.checkpointError ?? 'no checkpoint yet: waiting for the first save';
  $('#generate').disabled = !c || generating;
  const rows = [];
  if (c) {
    rows.push(['checkpoint step', c.step], ['parameters', c.parameters.toLocaleString('en')], ['device', c.device], ['data mode', c.config.mode]);
    for (const [k, v] of Object.entries(c.config)) if (k !== 'mode') rows.push([k, v]);
  }
  if (info.options) for (const [k, v] of Object.entries(info.options)) rows.push([`train.${k}`, v]);
  const table = $('#config');
  table.replaceChildren(...rows.map(([k, v]) => {
    const row = document.createElement('div');
    for (const x of [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]) {
      const cell = document.createElement('span');
      cell.textContent = x;
      row.append(cell);
    }
    return row;
  }));
  trainPts = info.train.slice();
  valPts = info.val.slice();
  samples = info.samples.slice();
  drawPlot();
  showPreviews();
  setupChat();
}

async function loadRun() {
  const res = await fetch('api/run');
  if (!res.ok) { $('#run-status').textContent = await errorOf(res); return; }
  showRun(await res.json());
}

// ---------------------------------------------------------------- training: live loss curves
let trainPts = [], valPts = [], samples = [];

function follow() {
  const es = new EventSource('api/run/events');
  es.addEventListener('log', (ev) => {
    const entries = JSON.parse(ev.data);
    if (!Array.isArray(entries)) { trainPts = []; valPts = []; samples = []; } // the log was rewritten
    else for (const e of entries) {
      if (e.type === 'train' && typeof e.loss === 'number') trainPts.push([e.step, e.loss]);
      else if (e.type === 'val' && typeof e.valLoss === 'number') valPts.push([e.step, e.valLoss]);
      else if (e.type === 'sample' && typeof e.text === 'string') samples.push({ step: e.step, text: e.text });
    }
    drawPlot();
    showPreviews();
  });
  es.addEventListener('checkpoint', (ev) => showRun(JSON.parse(ev.data)));
}

function showPreviews() {
  const box = $('#previews');
  if (!samples.length) return;
  box.replaceChildren(...samples.slice(-3).reverse().map((s) => {
    const d = document.createElement('div');
    d.className = 'preview';
    const b = document.createElement('b');
    b.textContent = `step ${s.step}`;
    d.append(b, document.createTextNode(s.text));
    return d;
  }));
}

const SVG = 'http://www.w3.org/2000/svg';
function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** nice tick values covering [lo, hi] */
function ticks(lo, hi, n) {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / n));
  const m = [1, 2, 5, 10].find((k) => span / (k * step) <= n) * step;
  const out = [];
  for (let v = Math.ceil(lo / m) * m; v <= hi + 1e-9; v += m) out.push(+v.toPrecision(12));
  return out;
}

function drawPlot() {
  const svg = $('#loss-plot');
  svg.dataset.trainPoints = String(trainPts.length);
  svg.dataset.valPoints = String(valPts.length);
  const W = 720, H = 320, L = 50, R = 12, T = 12, B = 34;
  const kids = [];
  if (!trainPts.length && !valPts.length) {
    kids.push(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no training log yet (log.jsonl)'));
    svg.replaceChildren(...kids);
    return;
  }
  // mean of the 21 steps centred on each point (prefix sums), decimated to at most ~700 points
  const k = Math.max(1, Math.ceil(trainPts.length / 700));
  const prefix = [0];
  for (const p of trainPts) prefix.push(prefix[prefix.length - 1] + p[1]);
  const smooth = [];
  for (let i = 0; i < trainPts.length; i += k) {
    const a = Math.max(0, i - 10), b = Math.min(trainPts.length, i + 11);
    smooth.push([trainPts[i][0], (prefix[b] - prefix[a]) / (b - a)]);
  }
  const raw = trainPts.filter((_, i) => i % k === 0);
  const all = [...raw, ...valPts].filter((p) => Number.isFinite(p[1]));
  const x0 = 0, x1 = Math.max(1, ...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => p[1])), y1 = Math.max(...all.map((p) => p[1]));
  if (y1 - y0 < 1e-6) { y0 -= 0.5; y1 += 0.5; }
  y0 = Math.max(0, y0 - 0.05 * (y1 - y0));
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  for (const v of ticks(y0, y1, 6)) {
    kids.push(el('line', { class: 'grid', x1: L, x2: W - R, y1: sy(v), y2: sy(v) }));
    kids.push(el('text', { x: L - 6, y: sy(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  for (const v of ticks(x0, x1, 8)) kids.push(el('text', { x: sx(v), y: H - B + 16, 'text-anchor': 'middle' }, String(v)));
  kids.push(el('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle' }, 'step'));
  kids.push(el('text', { x: 12, y: (T + H - B) / 2, transform: `rotate(-90 12 ${(T + H - B) / 2})`, 'text-anchor': 'middle' }, 'loss (nats/char)'));
  kids.push(el('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }), el('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  const path = (pts) => pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
  if (raw.length) kids.push(el('path', { class: 'train-raw', d: path(raw) }), el('path', { class: 'train', d: path(smooth) }));
  if (valPts.length) {
    kids.push(el('path', { class: 'val', d: path(valPts) }));
    for (const p of valPts.slice(-200)) kids.push(el('circle', { class: 'val', cx: sx(p[0]), cy: sy(p[1]), r: 2.5 }));
  }
  svg.replaceChildren(...kids);
  const lastT = smooth[smooth.length - 1], lastV = valPts[valPts.length - 1];
  $('#train-summary').textContent = [
    lastT ? `step ${trainPts[trainPts.length - 1][0]}: train loss ${fmt(lastT[1])}` : '',
    lastV ? `validation loss ${fmt(lastV[1])} at step ${lastV[0]}` : '',
  ].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------- sample
let generating = null; // AbortController of the running generation
let steps = [];

const out = $('#sample-out');
const tip = $('#tooltip');

function bodyFromForm(form) {
  const f = new FormData(form);
  const body = {};
  for (const [k, v] of f.entries()) {
    if (k === 'prime') body.prime = v;
    else if (String(v).trim() !== '') body[k] = v; // numbers as typed: the server checks them and names the field
  }
  return body;
}

$('#sample-form').noValidate = true; // the server's message says what is wrong, in one place
$('#sample-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (generating) return;
  const body = bodyFromForm(ev.target);
  showError($('#sample-error'), '');
  $('#sample-totals').textContent = '';
  const gen = out.querySelector('.gen');
  out.querySelector('.prime').textContent = body.prime ?? '';
  gen.replaceChildren();
  steps = [];
  generating = new AbortController();
  $('#generate').disabled = true;
  $('#stop').disabled = false;
  try {
    const res = await fetch('api/sample/stream', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: generating.signal,
    });
    if (!res.ok) { showError($('#sample-error'), await errorOf(res)); return; }
    let seed;
    for await (const { event, data } of sseEvents(res)) {
      if (event === 'start') seed = data.seed;
      else if (event === 'token') addToken(gen, data);
      else if (event === 'done') {
        $('#sample-totals').textContent = (data.beam
          ? `beam ${data.beam}: best of ${data.beams.length} hypotheses, ${data.tokens} tokens${data.stopped ? ' (ended at STOP)' : ''}, log-probability ${fmt(data.logProb)} nats, ${fmt(data.beams[0].score, 4)} per token`
          : `seed ${data.seed}, ${data.tokens} tokens${data.stopped ? ' (ended at STOP)' : ''}, log-probability ${fmt(data.logProb)} nats, mean entropy ${fmt(data.entropy)} nats`) +
          (data.skipped.length ? ` · prime characters not in the vocabulary, skipped: ${data.skipped.join(' ')}` : '');
      } else if (event === 'error') showError($('#sample-error'), data.error);
    }
    if (seed !== undefined && !$('#sample-totals').textContent) $('#sample-totals').textContent = `seed ${seed}: stopped after ${steps.length} tokens`;
  } catch (e) {
    if (e.name === 'AbortError') $('#sample-totals').textContent = `stopped after ${steps.length} tokens`;
    else showError($('#sample-error'), `the server did not answer: ${e.message}`);
  } finally {
    generating = null;
    $('#generate').disabled = !run?.checkpoint;
    $('#stop').disabled = true;
  }
});
$('#stop').addEventListener('click', () => generating?.abort());

function addToken(gen, t) {
  const i = steps.push(t) - 1;
  const isStop = t.stop;
  if (t.char === '' && !isStop) return; // part of a UTF-8 character in a byte model: shown with its last byte
  const s = document.createElement('span');
  s.className = 'ch';
  s.dataset.i = String(i);
  const p = Math.exp(t.logp);
  s.style.setProperty('--p', p.toFixed(4));
  s.dataset.p = p.toFixed(6);
  if (isStop) { s.textContent = '⏹'; s.classList.add('stop'); }
  else if (t.char === '\n') { s.textContent = '\n'; s.classList.add('nl'); }
  else s.textContent = t.char;
  gen.append(s);
}

const show = (sym) => (sym === '' ? 'STOP' : sym === '\n' ? '↵ (newline)' : sym === ' ' ? '␣ (space)' : sym === '\t' ? '⇥ (tab)' : sym);

out.addEventListener('mouseover', (ev) => {
  const s = ev.target.closest?.('.ch');
  if (!s) return;
  const t = steps[Number(s.dataset.i)];
  tip.replaceChildren();
  const head = document.createElement('div');
  head.className = 'head';
  head.textContent = `“${show(t.stop ? '' : t.char)}”  p = ${(Math.exp(t.logp) * 100).toFixed(1)}%` +
    (t.entropy === null ? '  ·  beam search: no alternatives' : `  ·  entropy ${fmt(t.entropy)} nats`);
  tip.append(head);
  if (t.alternatives?.length) {
    const table = document.createElement('table');
    for (const a of t.alternatives) {
      const tr = document.createElement('tr');
      if (a.token === t.token) tr.className = 'drawn';
      const c1 = document.createElement('td'); c1.textContent = show(a.symbol);
      const c2 = document.createElement('td'); c2.textContent = `${(a.p * 100).toFixed(1)}%`;
      const c3 = document.createElement('td'); c3.className = 'bar';
      const bar = document.createElement('span'); bar.style.width = `${Math.max(1, a.p * 100)}%`; c3.append(bar);
      tr.append(c1, c2, c3);
      table.append(tr);
    }
    tip.append(table);
  }
  const r = s.getBoundingClientRect();
  tip.hidden = false;
  tip.style.left = `${Math.min(r.left, innerWidth - tip.offsetWidth - 8)}px`;
  tip.style.top = `${r.bottom + 6 + tip.offsetHeight > innerHeight ? r.top - tip.offsetHeight - 6 : r.bottom + 6}px`;
});
out.addEventListener('mouseout', (ev) => { if (ev.target.closest?.('.ch')) tip.hidden = true; });

// ---------------------------------------------------------------- chat
let chatSession = sessionStorage.getItem('lstm-cuda-chat') ?? undefined;

function setupChat() {
  const can = !!run?.chat?.available;
  $('#chat-note').textContent = run?.chat?.note ?? '';
  for (const id of ['#chat-input', '#chat-send', '#chat-new']) $(id).disabled = !can;
}

function addMessage(who, text) {
  const d = document.createElement('div');
  d.className = `msg ${who}`;
  d.textContent = text;
  $('#chat-log').append(d);
  $('#chat-log').scrollTop = $('#chat-log').scrollHeight;
  return d;
}

$('#chat-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('#chat-input');
  const message = input.value;
  showError($('#chat-error'), '');
  if (!message.trim()) return;
  input.value = '';
  addMessage('you', message);
  $('#chat-send').disabled = true;
  try {
    const res = await fetch('api/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, session: chatSession }) });
    if (!res.ok) { showError($('#chat-error'), await errorOf(res)); return; }
    const r = await res.json();
    chatSession = r.session;
    sessionStorage.setItem('lstm-cuda-chat', chatSession);
    addMessage('model', r.reply);
  } catch (e) {
    showError($('#chat-error'), `the server did not answer: ${e.message}`);
  } finally {
    $('#chat-send').disabled = !run?.chat?.available;
    input.focus();
  }
});
$('#chat-new').addEventListener('click', () => {
  chatSession = undefined;
  sessionStorage.removeItem('lstm-cuda-chat');
  $('#chat-log').replaceChildren();
});

if (['#chat', '#training'].includes(location.hash)) showPanel(location.hash.slice(1));
loadRun().then(follow);
