// The dashboard: the form's fields go to the server as typed (the server reads units and counts with the
// same parsers as the CLI; nothing typed here is evaluated), the answer is laid out, the state is kept in
// the address bar (a link restores the form and the answer), designs can be compared side by side.
"use strict";

const $ = (id) => document.getElementById(id);
let answer = null;     // the last good answer of /api/dashboard
let request = null;    // the body that gave it
let pinned = [];       // states (field -> text) of the designs in the comparison

// ------------------------------------------------------------------------------------------- DOM helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const NUMBER = /^[-−+$]?[\d.,]+(e[-+]?\d+)?( ?[A-Za-z%/]{0,9})?$/;  // a figure, maybe with its unit: right-aligned

function fillRows(tbody, rows, classOf = () => "") {
  tbody.replaceChildren(...rows.map((r) => el("tr", {class: classOf(r)},
    ...r.map((cell, i) => el("td", i > 0 && NUMBER.test(cell) ? {class: "num"} : {}, cell)))));
}

// ------------------------------------------------------------------------------------ state and address bar

function formState() {
  const state = {};
  for (const field of $("controls").elements) {
    if (field.name && field.value.trim() !== "") state[field.name] = field.value.trim();
  }
  return state;
}

function setForm(params) {
  for (const field of $("controls").elements) {
    if (field.name && params.has(field.name)) field.value = params.get(field.name);
  }
}

function stateQuery(state) {
  return new URLSearchParams(state).toString();
}

function writeAddress(state) {
  const q = new URLSearchParams(state);
  for (const p of pinned) q.append("cmp", stateQuery(p));
  history.replaceState(null, "", "?" + q.toString());
}

function readAddress() {
  const q = new URLSearchParams(location.search);
  setForm(q);
  pinned = q.getAll("cmp").map((s) => Object.fromEntries(new URLSearchParams(s)));
}

// ----------------------------------------------------------------------------------------------- errors

function labelOf(name) {
  // The field as the page shows it: its label's text (the body's key when no field of the form has it).
  const field = $("controls").elements.namedItem(name);
  const label = field && field.closest ? field.closest("label") : null;
  return label ? label.firstChild.textContent.trim() : name;
}

function errorLines(out) {
  const d = out && out.detail;
  if (!Array.isArray(d)) return [String(d || "no answer")];
  return d.map((x) => {
    const field = labelOf((x.loc || []).slice(1).join(".")) || "request";
    const typed = typeof x.input === "string" ? x.input : JSON.stringify(x.input);
    const msg = String(x.msg || "");
    const why = x.type === "value_error" ? `expected ${msg}` : msg.charAt(0).toLowerCase() + msg.slice(1);
    return x.input === undefined ? `${field}: ${why}` : `${field}: '${typed}' is not allowed; ${why}`;
  });
}

function markInvalid(out) {
  for (const field of $("controls").elements) field.removeAttribute("aria-invalid");
  const d = out && Array.isArray(out.detail) ? out.detail : [];
  for (const x of d) {
    const field = $("controls").elements.namedItem((x.loc || [])[1]);
    if (field && field.setAttribute) {
      field.setAttribute("aria-invalid", "true");
      const box = field.closest("details");
      if (box) box.open = true;
    }
  }
}

function clearResult() {
  answer = null;
  $("result").hidden = true;
  $("summary").replaceChildren();
  for (const chart of document.querySelectorAll(".chart")) Plotly.purge(chart);
  $("download-json").disabled = $("download-csv").disabled = true;
}

// ----------------------------------------------------------------------------------------------- answer

function renderCards(cards) {
  $("summary").replaceChildren(...cards.map(([k, v]) =>
    el("div", {class: "card"}, el("div", {class: "k"}, k), el("div", {class: "v", "data-key": k}, v))));
}

const TRAIN_FIELDS = ["framework", "fp8_recipe", "moe_load_imbalance", "tp", "pp", "dp", "cp", "ep", "vp", "mbs",
                      "recompute", "sharding", "tokens", "top_k", "use_subset"];

function renderTraining(out) {
  const t = out.train, p = out.phase;
  const plans = out.tables.plans;
  $("train-head").textContent = t
    ? `${t.model} on ${t.gpus.toLocaleString("en-US")} × ${t.accelerator} (one of ${p.jobs} jobs of the phase), ` +
      `global batch ${t.global_batch.toLocaleString("en-US")} × ${t.seq_len.toLocaleString("en-US")} tokens, ` +
      `${t.precision}, ${t.framework}; ${t.calibration}`
    : `${p.reference_model} fits no parallel plan on this machine.`;
  const chosen = TRAIN_FIELDS.filter((k) => request && request[k] !== undefined);
  if (t && chosen.length) {
    $("train-head").textContent += `. With your ${chosen.join(", ")}; the cards above keep the fastest plan the search finds.`;
  }
  $("plans").tHead.replaceChildren(el("tr", {}, ...plans.columns.map((c) => el("th", {}, c))));
  fillRows($("plans").tBodies[0], plans.rows);
  fillRows($("time-to-train").tBodies[0], out.tables.time_to_train);
}

function renderTables(out) {
  const total = (r) => (r[0] === "total" ? "total" : "part");
  for (const key of ["capex", "power", "step"]) fillRows($("breakdown-" + key).tBodies[0], out.tables[key], total);
  const ms = out.tables.multisite;
  $("multisite-box").hidden = ms.length === 0;
  fillRows($("multisite").tBodies[0], ms);
  const warnings = out.warnings || [];
  $("warnings-box").hidden = warnings.length === 0;
  $("warnings").replaceChildren(...warnings.map((w) => el("li", {}, w)));
  fillRows($("prices").tBodies[0], out.prices.map((p) =>
    [p.kind, p.id, "$" + p.price_usd.toLocaleString("en-US"), p.source, p.date]));
  fillRows($("sources").tBodies[0], out.sources.map((s) => [s.kind, s.id, s.name, s.source, s.date]));
  $("sources-count").textContent = String(out.sources.length);
}

function renderCharts(charts) {
  for (const [id, fig] of Object.entries(charts)) {
    const layout = Object.assign({}, fig.layout, {autosize: true});
    delete layout.width;
    Plotly.react("chart-" + id, fig.data, layout, {responsive: true, displaylogo: false});
  }
}

function render(out) {
  $("result").hidden = false;
  renderCards(out.cards);
  renderTraining(out);
  renderTables(out);
  renderCharts(out.charts);
  $("download-json").disabled = $("download-csv").disabled = false;
}

async function update(ev) {
  if (ev) ev.preventDefault();
  const state = formState();
  writeAddress(state);
  $("go").disabled = true;
  try {
    const r = await fetch("/api/dashboard", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify(state)});
    const out = await r.json().catch(() => ({detail: `HTTP ${r.status}`}));
    markInvalid(r.ok ? null : out);
    if (!r.ok) {
      clearResult();
      $("error").textContent = errorLines(out).join("\n");
      document.body.dataset.state = "error";
      return;
    }
    $("error").textContent = "";
    answer = out;
    request = state;
    render(out);
    document.body.dataset.state = "ok";
  } catch (e) {
    clearResult();
    $("error").textContent = `no answer from the server: ${e}`;
    document.body.dataset.state = "error";
  } finally {
    $("go").disabled = false;
    document.body.dataset.updated = String(Date.now());
  }
}

// The tornados of the built-in plan's last phase (GET /api/sensitivity: computed once by the server).
async function renderHowSure() {
  const r = await fetch("/api/sensitivity");
  if (!r.ok) return;
  const out = await r.json();
  $("how-sure-head").textContent = `The built-in Stargate plan, ${out.phase}: each uncertain input set to its P10 and ` +
    "then its P90, every other input at its point. The charts of a design above carry its P10–P90 as whiskers.";
  const box = $("how-sure-charts");
  box.replaceChildren(...Object.keys(out.charts).map((id) => el("div", {class: "tornado", id: "chart-" + id})));
  $("how-sure-box").hidden = false;
  renderCharts(out.charts);
  document.body.dataset.howSure = String(Object.keys(out.charts).length);
}

// ---------------------------------------------------------------------------------------------- downloads

function flatten(value, prefix, rows) {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, rows);
  } else {
    rows.push([prefix, value === null ? "" : String(value)]);
  }
  return rows;
}

function csvCell(text) {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function answerRecord() {
  return {request, phase: answer.phase, train: answer.train, prices: answer.prices, sources: answer.sources,
          warnings: answer.warnings};
}

function save(name, type, text) {
  const a = el("a", {href: URL.createObjectURL(new Blob([text], {type})), download: name});
  document.body.append(a);
  a.click();
  a.remove();
}

function downloadJson() {
  save("stargate-design.json", "application/json", JSON.stringify(answerRecord(), null, 2));
}

function downloadCsv() {
  // One row per number of the answer: its path (the unit is in the key's name, SI) and its value.
  const rows = [["field", "value"], ...flatten(answerRecord(), "", [])];
  save("stargate-design.csv", "text/csv", rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n");
}

// ----------------------------------------------------------------------------------------------- compare

const DESIGN_FIELDS = ["accelerator", "fabric", "system", "energy", "systems_per_rack", "cooling", "wacc",
                       "scale_out", "year", "accelerator_price", "system_price"];

function designBody(state) {
  const body = {};
  for (const k of DESIGN_FIELDS) if (state[k] !== undefined) body[k] = state[k];
  body[state.sizing || "budget"] = state.value;
  return body;
}

function label(state) {
  return `${state.accelerator} · ${state.fabric || "infiniband"} · ${state.value}`;
}

function fmtSI(v, unit) {
  const prefixes = [[1e18, "E"], [1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, p] of prefixes) if (Math.abs(v) >= scale) return `${+(v / scale).toPrecision(3)} ${p}${unit}`;
  return `${+v.toPrecision(3)} ${unit}`;
}

function fmtUsd(v) {
  for (const [scale, w] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]]) {
    if (Math.abs(v) >= scale) return `${v < 0 ? "-" : ""}$${(Math.abs(v) / scale).toFixed(1)}${w}`;
  }
  return `${v < 0 ? "-" : ""}$${Math.abs(v).toFixed(2)}`;
}

const METRICS = [
  ["GPUs", (d) => d.gpus, (v) => Math.round(v).toLocaleString("en-US")],
  ["capex", (d) => d.capex_usd, fmtUsd, "capex_breakdown_usd"],
  ["IT power", (d) => d.it_power_w, (v) => fmtSI(v, "W"), "it_power_breakdown_w"],
  ["facility power", (d) => d.facility_power_w, (v) => fmtSI(v, "W")],
  ["racks", (d) => d.racks, (v) => Math.round(v).toLocaleString("en-US")],
  ["kW per rack", (d) => d.kw_per_rack, (v) => `${v.toFixed(1)} kW`],
  ["cooling", (d) => d.cooling.replace(/_/g, " ")],
  ["design PUE", (d) => d.design_pue, (v) => v.toFixed(2)],
  ["opex per year", (d) => d.opex_usd_per_year, fmtUsd, "opex_breakdown_usd_per_year"],
  ["TCO per GPU-hour", (d) => d.tco_usd_per_gpu_hour, (v) => `$${v.toFixed(2)}`, "tco_breakdown_usd_per_gpu_hour"],
];

function deltaText(v, base, fmt) {
  const d = v - base;
  const pct = base ? ` (${d >= 0 ? "+" : ""}${(100 * d / base).toFixed(1)}%)` : "";
  return `${d >= 0 ? "+" : "−"}${fmt(Math.abs(d))}${pct}`;
}

function compareRows(designs) {
  // Rows of [label, [value, delta vs the first design], ...]: each total, then the parts that account for its delta.
  const cell = (fmt, values) => values.map((v, i) => (!fmt ? [v, ""] : [fmt(v), i ? deltaText(v, values[0], fmt) : ""]));
  const rows = [];
  for (const [name, get, fmt, parts] of METRICS) {
    rows.push({cls: "total", label: name, cells: cell(fmt, designs.map(get))});
    if (!parts) continue;
    for (const k of [...new Set(designs.flatMap((d) => Object.keys(d[parts])))]) {
      rows.push({cls: "part", label: k.replace(/_/g, " "), cells: cell(fmt, designs.map((d) => d[parts][k] || 0))});
    }
  }
  return rows;
}

async function renderCompare() {
  $("compare-box").hidden = pinned.length === 0;
  $("compare-error").textContent = "";
  if (pinned.length === 0) return;
  const answers = await Promise.all(pinned.map(async (state) => {
    const r = await fetch("/api/design", {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(designBody(state))});
    return [r.ok, await r.json().catch(() => ({detail: `HTTP ${r.status}`}))];
  }));
  const bad = answers.findIndex(([ok]) => !ok);
  if (bad >= 0) {
    $("compare-error").textContent = `${label(pinned[bad])}: ${errorLines(answers[bad][1]).join("; ")}`;
  }
  const good = answers.map(([ok, d], i) => [ok, d, pinned[i]]).filter(([ok]) => ok);
  const head = el("tr", {}, el("th", {}, "design"), ...good.map(([, , s], i) => el("th", {}, label(s), " ",
    el("button", {type: "button", class: "secondary small", "data-remove": String(pinned.indexOf(s))}, "remove"),
    i === 0 ? " (base)" : "")));
  $("compare").tHead.replaceChildren(head);
  $("compare").tBodies[0].replaceChildren(...compareRows(good.map(([, d]) => d)).map((r) =>
    el("tr", {class: r.cls}, el("td", {}, r.label), ...r.cells.map(([v, delta]) =>
      el("td", {class: "num"}, v, delta ? el("span", {class: "delta"}, delta) : "")))));
  document.body.dataset.compared = String(good.length);
}

function pin() {
  pinned.push(formState());
  writeAddress(formState());
  renderCompare();
}

// ------------------------------------------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  readAddress();
  $("controls").addEventListener("submit", update);
  $("pin").addEventListener("click", pin);
  $("download-json").addEventListener("click", downloadJson);
  $("download-csv").addEventListener("click", downloadCsv);
  $("compare-clear").addEventListener("click", () => { pinned = []; writeAddress(formState()); renderCompare(); });
  $("compare").addEventListener("click", (ev) => {
    const i = ev.target.getAttribute && ev.target.getAttribute("data-remove");
    if (i !== null && i !== undefined) { pinned.splice(Number(i), 1); writeAddress(formState()); renderCompare(); }
  });
  update();
  renderCompare();
  renderHowSure();
});
