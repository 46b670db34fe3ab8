// The dashboard page: a runs list (#/) and a run page (#/run/<number>), both read from the JSON API and refreshed
// by polling while something is in progress, so states change without reloading the page.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const view = document.getElementById("view");
const crumb = document.getElementById("crumb");
const live = document.getElementById("live");
let timer = null;
let generation = 0;

function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function api(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const response = await fetch(path, { headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const stateBadge = (state) => el("span", { class: "state " + state }, state);

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return seconds.toFixed(1) + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s";
  return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
}

function bytes(value) {
  if (value === null || value === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
  return value.toFixed(i ? 1 : 0) + " " + units[i];
}

const when = (text) => (text ? text.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");

function schedule(refresh, inProgress) {
  clearTimeout(timer);
  live.textContent = inProgress ? "live: refreshing every second" : "";
  if (inProgress) timer = setTimeout(refresh, 1000);
}

// ---- runs list ----

const listFilters = { state: "", flow: "", q: "" };

async function showRuns() {
  const mine = ++generation;
  crumb.textContent = "runs";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(listFilters)) if (value) params.set(key, value);
  params.set("limit", "200");
  let body;
  try {
    body = await api("api/runs?" + params);
  } catch (error) {
    view.replaceChildren(el("p", { id: "error" }, "Cannot read the runs: " + error.message));
    return;
  }
  if (mine !== generation) return;
  const filters = el("div", { class: "filters" },
    el("select", { id: "state-filter", onchange: (e) => { listFilters.state = e.target.value; showRuns(); } },
      ["", "running", "succeeded", "failed", "interrupted"].map((s) =>
        el("option", { value: s, ...(s === listFilters.state ? { selected: "" } : {}) }, s || "any state"))),
    el("input", { id: "flow-filter", placeholder: "method (bcsd, gard)", value: listFilters.flow,
      onchange: (e) => { listFilters.flow = e.target.value.trim(); showRuns(); } }),
    el("input", { id: "text-filter", placeholder: "search run id, parameters, errors", value: listFilters.q, size: 36,
      onchange: (e) => { listFilters.q = e.target.value.trim(); showRuns(); } }));
  const rows = [];
  let batch = null;
  for (const run of body.runs) {
    if (run.batch && run.batch !== batch) rows.push(el("tr", { class: "batch" }, el("td", { colspan: 8 }, "batch " + run.batch)));
    batch = run.batch;
    const share = run.tasks_total ? (100 * run.tasks_ended) / run.tasks_total : 0;
    rows.push(el("tr", { class: "run", "data-run": run.id, "data-run-id": run.run_id, "data-state": run.state,
        onclick: () => { location.hash = "#/run/" + run.id; } },
      el("td", {}, el("a", { href: "#/run/" + run.id }, run.run_id)),
      el("td", {}, run.flow),
      el("td", { class: "muted" }, run.summary),
      el("td", {}, run.runtime),
      el("td", {}, stateBadge(run.state)),
      el("td", {}, when(run.started_at)),
      el("td", {}, duration(run.duration_seconds)),
      el("td", { title: `${run.tasks_ended} of ${run.tasks_total} tasks ended` },
        el("span", { class: "bar" }, el("span", { style: `width:${share}%` })), ` ${run.tasks_ended}/${run.tasks_total}`)));
  }
  const table = el("table", { id: "runs" },
    el("thead", {}, el("tr", {}, ["run", "method", "parameters", "runtime", "state", "started (UTC)", "duration", "tasks"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No runs recorded yet."))));
  const focused = document.activeElement && document.activeElement.id;
  view.replaceChildren(filters, table);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  schedule(showRuns, body.runs.some((run) => run.state === "running"));
}

// ---- run page ----

const runState = { id: null, lastSeq: null, level: "", task: "" };

async function showRun(id) {
  const mine = ++generation;
  if (runState.id !== id) Object.assign(runState, { id, lastSeq: null, level: "", task: "" });
  let body, resources;
  try {
    [body, resources] = await Promise.all([api("api/runs/" + id), api("api/runs/" + id + "/resources")]);
  } catch (error) {
    view.replaceChildren(el("p", { id: "error" }, "Cannot read run " + id + ": " + error.message));
    return;
  }
  if (mine !== generation) return;
  const { run, tasks, failure, outputs } = body;
  crumb.textContent = "run " + run.id + " · " + run.run_id;
  let page = document.getElementById("run-page");
  if (!page || page.dataset.run !== String(run.id)) {
    page = el("div", { id: "run-page", "data-run": run.id },
      el("div", { id: "facts" }), el("div", { id: "failure-slot" }),
      el("h2", {}, "Tasks"), el("div", { id: "graph" }), el("div", { id: "task-table" }),
      el("h2", {}, "Resources"), el("div", { id: "resources" }),
      el("h2", {}, "Log"), el("div", { id: "log-filters", class: "filters" }), el("div", { id: "logs" }),
      el("h2", {}, "Data"), el("div", { id: "data" }));
    view.replaceChildren(page);
    runState.lastSeq = null;
    drawLogFilters(tasks);
    drawData(run, outputs);
  }
  drawFacts(run, tasks, outputs);
  document.getElementById("failure-slot").replaceChildren(failure
    ? el("div", { id: "failure" }, el("strong", {}, failure.task ? `Task ${failure.task} failed: ` : "The run failed: "), failure.error)
    : "");
  drawGraph(tasks);
  drawTaskTable(tasks);
  drawResources(resources.samples);
  await appendLogs();
  if (document.getElementById("data").dataset.outputs !== JSON.stringify(outputs)) drawData(run, outputs);
  schedule(() => showRun(id), run.state === "running");
}

function drawFacts(run, tasks, outputs) {
  const facts = el("dl", { class: "facts" });
  const add = (label, value) => { if (value !== null && value !== undefined && value !== "") facts.append(el("dt", {}, label), el("dd", {}, value)); };
  add("state", stateBadge(run.state));
  add("run id", run.run_id);
  add("method", run.flow);
  add("parameters", run.summary);
  add("parameter file", run.parameter_file);
  add("runtime", run.runtime + " on " + run.host);
  add("started (UTC)", when(run.started_at));
  add("duration", duration(run.duration_seconds));
  add("batch", run.batch);
  if (run.dashboard) add("cluster dashboard", el("a", { href: run.dashboard, target: "_blank", id: "cluster-dashboard" }, run.dashboard));
  const jobs = tasks.filter((t) => t.jobs).map((t) => `${t.task_id}: ${t.jobs}`);
  if (jobs.length) add("cluster jobs", jobs.join("; "));
  if (run.manifest) add("manifest", el("span", {}, run.manifest, " (", el("a", { href: withToken(`api/runs/${run.id}/manifest`), target: "_blank" }, "view"), ")"));
  for (const [dataset, store] of Object.entries(outputs)) add("output " + dataset, store);
  document.getElementById("facts").replaceChildren(facts);
}

/// Lays the flow out in columns by depth (a task sits one column right of its deepest input) and draws each task
/// coloured by state, with its tiles or shards as a bar.
function drawGraph(tasks) {
  const depth = {};
  const byId = Object.fromEntries(tasks.map((t) => [t.task_id, t]));
  const depthOf = (id, seen = new Set()) => {
    if (depth[id] !== undefined) return depth[id];
    if (seen.has(id) || !byId[id]) return 0;
    seen.add(id);
    const inputs = byId[id].inputs.filter((i) => byId[i]);
    depth[id] = inputs.length ? 1 + Math.max(...inputs.map((i) => depthOf(i, seen))) : 0;
    return depth[id];
  };
  const columns = [];
  for (const task of tasks) (columns[depthOf(task.task_id)] ||= []).push(task);
  const [w, h, gapX, gapY, pad] = [190, 50, 60, 16, 12];
  const position = {};
  columns.forEach((column, c) => column.forEach((task, r) => { position[task.task_id] = { x: pad + c * (w + gapX), y: pad + r * (h + gapY) }; }));
  const width = pad * 2 + columns.length * (w + gapX) - gapX;
  const height = pad * 2 + Math.max(1, ...columns.map((c) => c.length)) * (h + gapY) - gapY;
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "task graph" });
  for (const task of tasks) for (const input of task.inputs) {
    const from = position[input], to = position[task.task_id];
    if (!from || !to) continue;
    const [x1, y1, x2, y2] = [from.x + w, from.y + h / 2, to.x, to.y + h / 2];
    root.append(svg("path", { class: "edge", d: `M${x1},${y1} C${x1 + gapX / 2},${y1} ${x2 - gapX / 2},${y2} ${x2},${y2}` }));
  }
  for (const task of tasks) {
    const { x, y } = position[task.task_id];
    const colour = getComputedStyle(document.documentElement).getPropertyValue("--" + task.state).trim() || "#999";
    const group = svg("g", { class: "task", "data-task-id": task.task_id, "data-state": task.state, transform: `translate(${x},${y})` },
      svg("title", {}, `${task.task_id} (${task.name}): ${task.state}` + (task.error ? "\n" + task.error : "")),
      svg("rect", { class: "box", width: w, height: h, rx: 6, fill: colour }),
      svg("text", { x: 8, y: 18, fill: "#fff", "font-weight": 600 }, task.task_id.length > 26 ? task.task_id.slice(0, 25) + "…" : task.task_id),
      svg("text", { x: 8, y: 34, fill: "#fff" }, task.state + (task.attempts > 1 ? ` · ${task.attempts} attempts` : "")));
    if (task.tiles_total) {
      const share = Math.min(1, (task.tiles_done || 0) / task.tiles_total);
      group.append(svg("rect", { x: 8, y: 40, width: w - 16, height: 5, fill: "rgba(255,255,255,.35)" }),
        svg("rect", { class: "tiles", x: 8, y: 40, width: (w - 16) * share, height: 5, fill: "#fff" }),
        svg("text", { x: w - 8, y: 34, fill: "#fff", "text-anchor": "end", class: "tile-count" }, `${task.tiles_done || 0}/${task.tiles_total}`));
    }
    root.append(group);
  }
  document.getElementById("graph").replaceChildren(root);
}

function drawTaskTable(tasks) {
  const headers = ["task", "kind", "state", "attempts", "wall", "CPU", "peak RSS", "read", "written", "tiles", "jobs"];
  const rows = tasks.map((t) => el("tr", { "data-task-id": t.task_id },
    el("td", {}, t.task_id), el("td", { class: "muted" }, t.name), el("td", {}, stateBadge(t.state)),
    el("td", {}, t.attempts), el("td", {}, duration(t.wall_seconds)), el("td", {}, duration(t.cpu_seconds)),
    el("td", {}, bytes(t.peak_rss_bytes)), el("td", {}, bytes(t.bytes_read)), el("td", {}, bytes(t.bytes_written)),
    el("td", {}, t.tiles_total ? `${t.tiles_done || 0}/${t.tiles_total}` : ""), el("td", {}, t.jobs || "")));
  document.getElementById("task-table").replaceChildren(
    el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))), el("tbody", {}, rows)));
}

/// CPU (cores busy) and resident memory of the run's process over time, as two lines on one time axis.
function drawResources(samples) {
  const slot = document.getElementById("resources");
  if (!samples.length) { slot.replaceChildren(el("p", { class: "muted" }, "No samples recorded for this run.")); return; }
  const [width, height, pad] = [720, 160, 36];
  const times = samples.map((s) => Date.parse(s.at));
  const t0 = Math.min(...times), t1 = Math.max(t0 + 1000, ...times);
  const maxCpu = Math.max(1, ...samples.map((s) => s.cpu_cores));
  const maxRss = Math.max(1, ...samples.map((s) => s.rss_bytes));
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (width - 2 * pad);
  const line = (value, max) => samples.map((s, i) => `${i ? "L" : "M"}${x(times[i]).toFixed(1)},${(height - pad - (value(s) / max) * (height - 2 * pad)).toFixed(1)}`).join(" ");
  const chart = svg("svg", { class: "chart", width, height, role: "img", "aria-label": "resources" },
    svg("path", { d: line((s) => s.cpu_cores, maxCpu), fill: "none", stroke: "#1a73e8", "stroke-width": 2 }),
    svg("path", { d: line((s) => s.rss_bytes, maxRss), fill: "none", stroke: "#d93025", "stroke-width": 2 }),
    svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: "#999" }),
    svg("text", { x: pad, y: 14, fill: "#1a73e8" }, `CPU, up to ${maxCpu.toFixed(1)} cores`),
    svg("text", { x: width - pad, y: 14, fill: "#d93025", "text-anchor": "end" }, `memory, up to ${bytes(maxRss)}`),
    svg("text", { x: pad, y: height - 12, fill: "#5f6368" }, when(samples[0].at)),
    svg("text", { x: width - pad, y: height - 12, fill: "#5f6368", "text-anchor": "end" }, duration((t1 - t0) / 1000)));
  slot.replaceChildren(chart);
}

function drawLogFilters(tasks) {
  const reset = () => { runState.lastSeq = null; document.getElementById("logs").replaceChildren(); appendLogs(); };
  document.getElementById("log-filters").replaceChildren(
    el("select", { id: "level-filter", onchange: (e) => { runState.level = e.target.value; reset(); } },
      ["", "info", "warn", "error"].map((l) => el("option", { value: l }, l || "any level"))),
    el("select", { id: "task-filter", onchange: (e) => { runState.task = e.target.value; reset(); } },
      el("option", { value: "" }, "every task"), tasks.map((t) => el("option", { value: t.task_id }, t.task_id))));
}

async function appendLogs() {
  const params = new URLSearchParams({ limit: "500" });
  if (runState.level) params.set("level", runState.level);
  if (runState.task) params.set("task", runState.task);
  if (runState.lastSeq !== null) params.set("after", runState.lastSeq);
  const body = await api(`api/runs/${runState.id}/logs?${params}`);
  const box = document.getElementById("logs");
  if (!box) return;
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  for (const line of body.lines) {
    box.append(el("div", { class: line.level, "data-seq": line.seq },
      `${when(line.at)} ${line.level.padEnd(5)} ${line.task_id ? "[" + line.task_id + "] " : ""}${line.message}`));
    runState.lastSeq = line.seq;
  }
  if (runState.lastSeq === null) runState.lastSeq = 0;
  if (atBottom) box.scrollTop = box.scrollHeight;
}

/// An image from the API; when it cannot be drawn, the API's one-line reason in its place.
function image(id, alt, src) {
  const img = el("img", { id, alt, src });
  img.addEventListener("error", async () => {
    let reason = "the image could not be loaded";
    try {
      const headers = token ? { Authorization: "Bearer " + token } : {};
      const body = await (await fetch(src, { headers })).json();
      if (body.error) reason = body.error;
    } catch (_) { /* keep the general reason */ }
    img.replaceWith(el("p", { id, class: "image-error" }, `${alt}: ${reason}`));
  });
  return img;
}

/// Maps and series of the run's published stores, and the downscaled-minus-observed climatology.
function drawData(run, outputs) {
  const slot = document.getElementById("data");
  slot.dataset.outputs = JSON.stringify(outputs);
  const datasets = Object.keys(outputs);
  if (!datasets.length) { slot.replaceChildren(el("p", { class: "muted" }, "No published outputs yet.")); return; }
  const form = { dataset: datasets.includes("daily") ? "daily" : datasets[0], mean: "all", time: "" };
  const images = el("div", { class: "panel" });
  const refresh = () => {
    const params = new URLSearchParams({ dataset: form.dataset });
    if (form.mean) params.set("mean", form.mean);
    if (form.time) params.set("time", form.time);
    images.replaceChildren(
      image("map", "map", withToken(`api/runs/${run.id}/map.png?${params}`)),
      image("series", "domain-mean series", withToken(`api/runs/${run.id}/series.png?dataset=${form.dataset}`)),
      run.parameters && run.parameters.train_dates
        ? image("bias", "downscaled minus observed climatology", withToken(`api/runs/${run.id}/bias.png`))
        : null);
  };
  const controls = el("div", { class: "filters" },
    el("select", { id: "dataset", onchange: (e) => { form.dataset = e.target.value; refresh(); } },
      datasets.map((d) => el("option", { value: d, ...(d === form.dataset ? { selected: "" } : {}) }, d))),
    el("select", { id: "mean", onchange: (e) => { form.mean = e.target.value; refresh(); } },
      [["all", "mean of the whole record"], ["year", "mean of a year"], ["month", "mean of a month"], ["", "one day"]]
        .map(([value, label]) => el("option", { value }, label))),
    el("input", { id: "time", placeholder: "time: YYYY, YYYY-MM or YYYY-MM-DD", size: 30,
      onchange: (e) => { form.time = e.target.value.trim(); refresh(); } }));
  slot.replaceChildren(controls, images);
  refresh();
}

function route() {
  clearTimeout(timer);
  const match = location.hash.match(/^#\/run\/([^/]+)$/);
  if (match) showRun(decodeURIComponent(match[1]));
  else showRuns();
}

window.addEventListener("hashchange", route);
route();
