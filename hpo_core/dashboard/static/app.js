// The hpo-core dashboard page: a list of studies (#/) and a study (#/study/<name>).
// Everything comes from this server (/api/...); new trials arrive as Server-Sent Events.
// window.hpoDash records what the page did, for the browser tests and the benchmark.
"use strict";

const dash = (window.hpoDash = { historyDrawnAt: null, seen: {}, pushes: 0, studies: null, tableTotal: null,
  figures: {} });
const app = document.getElementById("app");
const MAX_CLIENT_POINTS = 6000; // beyond this many points in the history plot, ask the server to sample again
const CONFIG = { responsive: true, displaylogo: false };
let page = null; // the study page's state
// plotly.js (4.8 MB) loads while the page asks the server for the study's data.
const plotlyReady = new Promise((resolve, reject) => {
  const tag = document.getElementById("plotly-js");
  if (window.Plotly) { dash.plotlyLoadedAt = performance.now(); resolve(); return; }
  tag.addEventListener("load", () => { dash.plotlyLoadedAt = performance.now(); resolve(); });
  tag.addEventListener("error", () => reject(new Error("plotly.js did not load")));
});

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, item);
  }
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toFixed(5);
  return String(v);
}

function setLive(on, text) {
  const s = document.getElementById("live");
  s.className = "live " + (on ? "on" : "off");
  s.textContent = text;
}

// ------------------------------------------------------------------ routing
function route() {
  if (page && page.events) page.events.close();
  page = null;
  setLive(false, "not live");
  const m = location.hash.match(/^#\/study\/(.+)$/);
  if (m) studyPage(decodeURIComponent(m[1])).catch(showError);
  else studiesPage().catch(showError);
}

function showError(e) {
  app.append(el("p", { class: "error" }, String(e.message || e)));
}

window.addEventListener("hashchange", route);

// ------------------------------------------------------------------ studies
async function studiesPage() {
  document.getElementById("crumb").textContent = "studies";
  const { studies } = await api("/api/studies");
  const rows = studies.map((s) =>
    el("tr", {},
      el("td", {}, el("a", { href: "#/study/" + encodeURIComponent(s.name), class: "study-link" }, s.name)),
      el("td", {}, s.directions.join(", ")),
      el("td", { class: "num" }, String(s.n_trials)),
      el("td", {}, s.datetime_start || "")));
  app.replaceChildren(el("section", { class: "card" },
    el("h2", {}, "Studies"),
    studies.length ? el("table", { id: "studies" },
      el("thead", {}, el("tr", {}, el("th", {}, "name"), el("th", {}, "directions"), el("th", {}, "trials"),
        el("th", {}, "started"))),
      el("tbody", {}, rows)) : el("p", { class: "muted" }, "No studies in this storage.")));
  dash.studies = studies.map((s) => s.name);
}

// ------------------------------------------------------------------ a study
async function studyPage(name) {
  document.getElementById("crumb").textContent = name;
  const meta = await api("/api/study", { name });
  const multi = meta.directions.length > 1;
  const p = (page = { name, meta, multi, objective: 0, x: [], y: [], bx: [], by: [], last: -1, n: 0,
    drawing: false, dirty: false, figTimer: null, tableTimer: null, query: { sort: "number", desc: "0", page: 0 } });
  const objSelect = multi ? el("select", { id: "objective", onchange: (ev) => { p.objective = +ev.target.value; loadHistory(); } },
    meta.metric_names.map((n, i) => el("option", { value: i }, `${n} (${meta.directions[i]})`))) : null;
  app.replaceChildren(
    el("h2", {}, name),
    el("div", { class: "summary", id: "summary" }),
    el("div", { class: "cards" },
      el("section", { class: "card wide" }, el("h3", {}, "Optimization history ", objSelect),
        el("div", { id: "history", class: "plot" })),
      multi ? el("section", { class: "card wide" }, el("h3", {}, "Pareto front"), el("div", { id: "pareto-note", class: "note" }), el("div", { id: "pareto", class: "plot" })) : null,
      el("section", { class: "card" }, el("h3", {}, "Parameter importances"), el("div", { id: "importances-note", class: "note" }), el("div", { id: "importances", class: "plot" })),
      el("section", { class: "card" }, el("h3", {}, "Intermediate values"), el("div", { id: "intermediate-note", class: "note" }), el("div", { id: "intermediate", class: "plot" })),
      el("section", { class: "card wide" }, el("h3", {}, "Parallel coordinates"), el("div", { id: "parallel-note", class: "note" }), el("div", { id: "parallel", class: "plot" })),
      el("section", { class: "card wide" }, el("h3", {}, "Trials"), filtersForm(meta),
        el("div", { class: "table-wrap" }, el("table", { id: "trials-table" })),
        el("div", { class: "pager" },
          el("button", { id: "prev-page", onclick: () => { if (p.query.page > 0) { p.query.page--; loadTable(); } } }, "‹ prev"),
          el("span", { id: "page-info" }),
          el("button", { id: "next-page", onclick: () => { p.query.page++; loadTable(); } }, "next ›")))));
  summary(meta.counts, meta.n_trials);
  await loadHistory();
  loadFigures();
  loadTable();
}

function summary(counts, n) {
  const s = document.getElementById("summary");
  if (!s) return;
  const m = page.meta;
  s.replaceChildren(el("span", {}, "trials ", el("b", { id: "n-trials" }, String(n))),
    ...Object.entries(counts).filter(([, c]) => c).map(([k, c]) => el("span", {}, k.toLowerCase() + " ", el("b", {}, String(c)))),
    el("span", {}, "directions ", el("b", {}, m.directions.join(", "))));
}

// ------------------------------------------------------------------ live history
async function loadHistory() {
  const p = page;
  const h = await api("/api/history", { name: p.name, objective: p.objective });
  if (dash.historyDataAt === undefined) dash.historyDataAt = performance.now();
  if (page !== p) return;
  Object.assign(p, { x: h.numbers, y: h.values, bx: h.best_numbers, by: h.best_values, n: h.n_complete,
    minimize: h.minimize, last: h.numbers.length ? Math.max(...h.numbers) : -1, sampled: h.numbers.length < h.n_complete });
  if (!window.Plotly) {
    previewHistory();
    if (dash.historyPreviewAt === undefined) dash.historyPreviewAt = performance.now();
  }
  await drawHistory();
  if (dash.historyDrawnAt === null) dash.historyDrawnAt = performance.now();
  listen(h.cursor);
}

// The history as a plain canvas picture while plotly.js (4.8 MB) is still loading; the
// interactive plot replaces it.
function previewHistory() {
  const p = page, div = document.getElementById("history");
  const w = div.clientWidth || 800, hgt = div.clientHeight || 380, dpr = window.devicePixelRatio || 1;
  const c = el("canvas", { id: "history-preview", width: w * dpr, height: hgt * dpr, style: `width:${w}px;height:${hgt}px` });
  div.replaceChildren(c);
  const g = c.getContext("2d");
  g.scale(dpr, dpr);
  const ys = p.y.filter((v) => v !== null && Number.isFinite(v));
  if (!ys.length) return;
  const m = { l: 60, r: 20, t: 30, b: 40 };
  let [x0, x1] = [0, Math.max(1, p.last)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
  const X = (x) => m.l + ((x - x0) / (x1 - x0)) * (w - m.l - m.r), Y = (y) => hgt - m.b - ((y - y0) / (y1 - y0)) * (hgt - m.t - m.b);
  g.strokeStyle = "#e3e6ec"; g.fillStyle = "#6b7280"; g.font = "11px system-ui, sans-serif";
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + ((y1 - y0) * i) / 4, xv = x0 + ((x1 - x0) * i) / 4;
    g.beginPath(); g.moveTo(m.l, Y(yv)); g.lineTo(w - m.r, Y(yv)); g.stroke();
    g.fillText(fmt(+yv.toPrecision(3)), 4, Y(yv) + 4);
    g.fillText(String(Math.round(xv)), X(xv) - 10, hgt - m.b + 16);
  }
  g.fillStyle = "rgba(47,111,221,0.6)";
  for (let i = 0; i < p.x.length; i++) if (p.y[i] !== null) g.fillRect(X(p.x[i]) - 2, Y(p.y[i]) - 2, 4, 4);
  g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath();
  p.bx.forEach((x, i) => { if (i) g.lineTo(X(x), Y(p.by[i - 1])); i ? g.lineTo(X(x), Y(p.by[i])) : g.moveTo(X(x), Y(p.by[i])); });
  if (p.bx.length) g.lineTo(X(p.last), Y(p.by[p.by.length - 1]));
  g.stroke();
  g.fillStyle = "#6b7280"; g.fillText("loading the interactive plot…", m.l, 16);
}

function historyTraces() {
  const p = page;
  const bx = p.bx.slice(), by = p.by.slice();
  if (bx.length && p.last > bx[bx.length - 1]) { bx.push(p.last); by.push(by[by.length - 1]); }
  const label = p.meta.metric_names[p.objective];
  const shown = p.x.length < p.n ? ` (${p.x.length.toLocaleString()} of ${p.n.toLocaleString()} shown)` : "";
  return [
    { type: "scatter", mode: "markers", name: label + shown, x: p.x, y: p.y, marker: { size: 4, color: "#2f6fdd", opacity: 0.6 } },
    { type: "scatter", mode: "lines", name: "best value", x: bx, y: by, line: { shape: "hv", color: "#d62728", width: 2 } },
  ];
}

async function drawHistory() {
  const p = page;
  await plotlyReady;
  document.getElementById("history-preview")?.remove();
  const layout = { margin: { l: 60, r: 20, t: 10, b: 40 }, xaxis: { title: { text: "trial" } },
    yaxis: { title: { text: p.meta.metric_names[p.objective] } }, legend: { orientation: "h", y: 1.1 }, uirevision: p.name };
  await Plotly.react("history", historyTraces(), layout, CONFIG);
}

// Redraw at most one at a time; pushes that arrive meanwhile are drawn together after.
async function redrawHistory() {
  const p = page;
  if (p.drawing) { p.dirty = true; return; }
  p.drawing = true;
  try {
    do { p.dirty = false; await drawHistory(); } while (p.dirty && page === p);
  } finally { p.drawing = false; }
}

function listen(cursor) {
  const p = page;
  if (p.events) p.events.close();
  const es = (p.events = new EventSource(`/api/events?name=${encodeURIComponent(p.name)}&cursor=${cursor}`));
  es.onopen = () => setLive(true, "live");
  es.onerror = () => setLive(false, "reconnecting…");
  es.addEventListener("trials", (ev) => onTrials(p, JSON.parse(ev.data)));
}

function bestAt(p, number) {
  // the best value among trials numbered below `number` (binary search on the best line)
  let lo = 0, hi = p.bx.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (p.bx[mid] < number) lo = mid + 1; else hi = mid; }
  return lo ? p.by[lo - 1] : null;
}

async function onTrials(p, u) {
  if (page !== p) return;
  const vals = u.values[p.objective];
  let refetch = false;
  for (let i = 0; i < u.numbers.length; i++) {
    const n = u.numbers[i], v = vals[i];
    if (u.states[i] !== "COMPLETE" || v === null) continue;
    p.x.push(n); p.y.push(v); p.n++;
    const b = bestAt(p, n);
    const better = b === null || (p.minimize ? v < b : v > b);
    if (n > p.last) {
      p.last = n;
      if (better) { p.bx.push(n); p.by.push(v); }
    } else if (better) refetch = true; // finished out of order and improves the line before its end
  }
  summary(u.counts, u.n_trials);
  if (refetch || p.x.length > MAX_CLIENT_POINTS) { p.events.close(); await loadHistory(); }
  else await redrawHistory();
  const now = performance.timeOrigin + performance.now();
  for (const n of u.numbers) if (!(n in dash.seen)) dash.seen[n] = now;
  dash.pushes++;
  clearTimeout(p.figTimer);
  p.figTimer = setTimeout(loadFigures, 3000);
  if (document.getElementById("live-table")?.checked) {
    clearTimeout(p.tableTimer);
    p.tableTimer = setTimeout(loadTable, 500);
  }
}

// ------------------------------------------------------------------ other plots
async function loadFigures() {
  const p = page;
  if (!p) return;
  const kinds = ["importances", "parallel", "intermediate"];
  if (p.multi) kinds.unshift("pareto");
  for (const kind of kinds) {
    try {
      const fig = await api("/api/figure", { name: p.name, kind, objective: p.objective });
      await plotlyReady;
      if (page !== p) return;
      // The figure's title (what it samples at this size) goes under the card's heading,
      // clear of plotly's toolbar.
      const title = fig.layout.title && (fig.layout.title.text ?? fig.layout.title);
      delete fig.layout.title;
      fig.layout.margin = { ...(fig.layout.margin || {}), t: 30 };
      const note = document.getElementById(kind + "-note");
      if (note) note.textContent = typeof title === "string" ? title : "";
      await Plotly.react(kind, fig.data, fig.layout, CONFIG);
      dash.figures[kind] = (dash.figures[kind] || 0) + 1;
    } catch (e) {
      document.getElementById(kind)?.replaceChildren(el("p", { class: "error" }, String(e.message || e)));
    }
  }
}

// ------------------------------------------------------------------ trial table
function filtersForm(meta) {
  const states = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"];
  const numeric = [["number", "number"], ["duration", "duration (s)"]];
  meta.metric_names.forEach((n, i) => numeric.push([meta.directions.length > 1 ? `value_${i}` : "value", n]));
  for (const q of meta.params) if (q.kind !== "categorical") numeric.push([q.name, q.name]);
  const cats = meta.params.filter((q) => q.kind === "categorical");
  const catChoice = el("select", { id: "choice-value" }, el("option", { value: "" }, "any"));
  const catParam = el("select", { id: "choice-param", onchange: () => {
    const q = cats.find((c) => c.name === catParam.value);
    catChoice.replaceChildren(el("option", { value: "" }, "any"), ...(q ? q.choices.map((c) => el("option", { value: c }, c)) : []));
  } }, el("option", { value: "" }, "—"), cats.map((q) => el("option", { value: q.name }, q.name)));
  const apply = () => { page.query.page = 0; loadTable(); };
  const onEnter = (ev) => { if (ev.key === "Enter") apply(); };
  return el("div", { class: "filters" },
    el("fieldset", { id: "filter-states" }, el("legend", {}, "state"),
      states.map((s) => el("label", {}, el("input", { type: "checkbox", value: s }), " " + s.toLowerCase() + " "))),
    el("fieldset", {}, el("legend", {}, "range"),
      el("select", { id: "range-column" }, numeric.map(([v, t]) => el("option", { value: v }, t))), " ",
      el("input", { id: "range-low", type: "number", step: "any", placeholder: "min", onkeydown: onEnter }), " – ",
      el("input", { id: "range-high", type: "number", step: "any", placeholder: "max", onkeydown: onEnter })),
    cats.length ? el("fieldset", {}, el("legend", {}, "categorical"), catParam, " = ", catChoice) : null,
    el("button", { id: "apply-filter", class: "primary", onclick: apply }, "filter"),
    el("label", {}, el("input", { id: "live-table", type: "checkbox", checked: true }), " update with new trials"),
    el("label", {}, "rows ", el("select", { id: "page-size", onchange: apply },
      [10, 20, 50, 100, 200].map((n) => el("option", { value: n, selected: n === 50 }, String(n))))));
}

function tableParams() {
  const q = page.query;
  const params = { name: page.name, sort: q.sort, desc: q.desc, page: q.page,
    size: document.getElementById("page-size").value };
  const states = [...document.querySelectorAll("#filter-states input:checked")].map((i) => i.value);
  if (states.length) params.states = states.join(",");
  const lo = document.getElementById("range-low").value, hi = document.getElementById("range-high").value;
  if (lo !== "" || hi !== "") params.range = `${document.getElementById("range-column").value}:${lo}:${hi}`;
  const cp = document.getElementById("choice-param"), cv = document.getElementById("choice-value");
  if (cp && cp.value && cv.value) params.choice = `${cp.value}:${cv.value}`;
  return params;
}

async function loadTable() {
  const p = page;
  if (!p) return;
  let t;
  try { t = await api("/api/trials", tableParams()); } catch (e) {
    document.getElementById("page-info").textContent = String(e.message || e);
    return;
  }
  if (page !== p) return;
  const pages = Math.max(1, Math.ceil(t.total / t.size));
  if (t.page >= pages && t.page > 0) { p.query.page = pages - 1; return loadTable(); }
  const cols = Object.keys(t.columns);
  const sortKey = (c) => (c.startsWith("params_") ? c.slice(7) : c);
  const head = el("tr", {}, cols.map((c) => el("th", {
    "data-column": c,
    class: sortKey(c) === p.query.sort ? "sorted" + (p.query.desc === "1" ? " desc" : "") : "",
    onclick: () => { const k = sortKey(c); if (k === "state") return;
      p.query.desc = p.query.sort === k && p.query.desc === "0" ? "1" : "0"; p.query.sort = k; p.query.page = 0; loadTable(); },
  }, c.replace(/^params_/, ""))));
  const n = t.columns.number.length;
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push(el("tr", {}, cols.map((c) => {
      const v = t.columns[c][i];
      return el("td", { class: (typeof v === "number" ? "num" : "") + (c === "state" ? " state-" + v : "") }, fmt(v));
    })));
  }
  document.getElementById("trials-table").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
  document.getElementById("page-info").textContent =
    `page ${t.page + 1} of ${pages} · ${t.total.toLocaleString()} trials match`;
  document.getElementById("page-info").dataset.total = t.total;
  dash.tableTotal = t.total;
  dash.tableLoads = (dash.tableLoads || 0) + 1;
}

route();
