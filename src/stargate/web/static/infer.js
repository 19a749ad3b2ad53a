// The serving page: one POST /api/infer per chosen accelerator (fields sent as typed: the server reads units and
// counts with the CLI's parsers), each frontier drawn as a curve, the best point of each in a table. The form
// lives in the address bar, so a link restores it.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function formState() {
  // field -> text, or for the accelerators the list chosen; blanks left out
  const state = {};
  for (const field of $("controls").elements) {
    if (!field.name) continue;
    if (field.multiple) state[field.name] = [...field.selectedOptions].map((o) => o.value);
    else if (field.value.trim() !== "") state[field.name] = field.value.trim();
  }
  return state;
}

function writeAddress(state) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) for (const x of [].concat(v)) q.append(k, x);
  history.replaceState(null, "", "?" + q.toString());
}

function readAddress() {
  const q = new URLSearchParams(location.search);
  for (const field of $("controls").elements) {
    if (!field.name || !q.has(field.name)) continue;
    if (field.multiple) {
      const chosen = new Set(q.getAll(field.name));
      for (const o of field.options) o.selected = chosen.has(o.value);
    } else {
      field.value = q.get(field.name);
    }
  }
}

function bodyFor(state, accelerator) {
  const body = {accelerator};
  for (const [k, v] of Object.entries(state)) if (k !== "accelerators") body[k] = v;
  return body;
}

function errorText(accelerator, out) {
  const d = out && out.detail;
  if (!Array.isArray(d)) return `${accelerator}: ${d || "no answer"}`;
  return d.map((x) => {
    const field = (x.loc || []).slice(1).join(".") || "request";
    const typed = typeof x.input === "string" ? x.input : JSON.stringify(x.input);
    const why = x.type === "value_error" ? `expected ${x.msg}` : String(x.msg || "");
    return `${accelerator}: ${field}: '${typed}' is not allowed; ${why}`;
  }).join("\n");
}

const fmt = (v, digits = 0) => v.toLocaleString("en-US", {maximumFractionDigits: digits});
const ms = (s) => `${fmt(1000 * s, 1)} ms`;

function layoutOf(d) {
  const degrees = ["tp", "pp", "ep"].filter((k) => d[k] > 1 || k === "tp").map((k) => `${k}${d[k]}`).join(" ");
  return degrees + (d.attention_dp ? " adp" : "");
}

const COLUMNS = ["accelerator", "GPUs", "layout × replicas", "batch", "prefill:decode", "tokens/s per GPU",
                 "tokens/s per user", "TTFT p99", "TPOT p99", "users at once", "$ per M output tokens",
                 "tokens/s per MW", "meets limits"];

function bestRow(out) {
  const d = out.deployment;
  return [out.accelerator, fmt(out.gpus), `${layoutOf(d)} × ${fmt(d.replicas)}`, fmt(d.batch), d.prefill_decode_split,
          fmt(out.tokens_per_s_per_gpu), fmt(out.tokens_per_s_per_user, 1), ms(out.ttft_p99_s), ms(out.tpot_p99_s),
          fmt(out.concurrent_users), `$${out.usd_per_million_tokens.toPrecision(3)}`, fmt(out.tokens_per_mw),
          out.meets_limits ? "yes" : "no"];
}

function draw(answers) {
  const traces = [];
  answers.forEach((out, i) => {
    const color = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"][i % 6];
    traces.push({name: out.accelerator, type: "scatter", mode: "lines+markers", line: {color, shape: "hv"},
                 x: out.frontier.map((p) => p.tokens_per_s_per_user), y: out.frontier.map((p) => p.tokens_per_s_per_gpu),
                 text: out.frontier.map((p) => `batch ${p.batch}, tp${p.tp} pp${p.pp}${p.disaggregated ? ", disaggregated" : ""}`),
                 hovertemplate: "%{y:,.0f} tokens/s per GPU at %{x:.1f} tokens/s per user<br>%{text}<extra>%{fullData.name}</extra>"});
    traces.push({name: `${out.accelerator}: best under the limits`, type: "scatter", mode: "markers", showlegend: false,
                 marker: {symbol: "star", size: 16, color, line: {color: "#000", width: 1}},
                 x: [out.tokens_per_s_per_user], y: [out.tokens_per_s_per_gpu],
                 hovertemplate: "best: %{y:,.0f} tokens/s per GPU at %{x:.1f} tokens/s per user<extra></extra>"});
  });
  const layout = {title: "Throughput against interactivity", autosize: true, hovermode: "closest",
                  xaxis: {title: {text: "output tokens/s per user"}, rangemode: "tozero"},
                  yaxis: {title: {text: "output tokens/s per GPU"}, rangemode: "tozero"},
                  margin: {l: 70, r: 20, t: 50, b: 60}, legend: {orientation: "h", y: -0.2}};
  Plotly.react("chart-frontier", traces, layout, {responsive: true, displaylogo: false});
}

function render(answers) {
  $("result").hidden = answers.length === 0;
  if (answers.length === 0) return;
  $("best").tHead.replaceChildren(el("tr", {}, ...COLUMNS.map((c) => el("th", {}, c))));
  $("best").tBodies[0].replaceChildren(...answers.map((out) => el("tr", {},
    ...bestRow(out).map((cell, i) => el("td", i > 0 && i !== 2 && i !== 4 ? {class: "num"} : {}, cell)))));
  const notes = answers.flatMap((out) => out.notes.map((n) => `${out.accelerator}: ${n}`));
  $("notes").replaceChildren(...notes.map((n) => el("li", {}, n)));
  draw(answers);
}

async function update(ev) {
  if (ev) ev.preventDefault();
  const state = formState();
  writeAddress(state);
  $("go").disabled = true;
  try {
    const chips = state.accelerators || [];
    const replies = await Promise.all(chips.map(async (chip) => {
      const r = await fetch("/api/infer", {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify(bodyFor(state, chip))});
      return [chip, r.ok, await r.json().catch(() => ({detail: `HTTP ${r.status}`}))];
    }));
    const errors = replies.filter(([, ok]) => !ok).map(([chip, , out]) => errorText(chip, out));
    if (chips.length === 0) errors.push("accelerators: choose one or more");
    $("error").textContent = errors.join("\n");
    render(replies.filter(([, ok]) => ok).map(([, , out]) => out));
    document.body.dataset.state = errors.length ? "error" : "ok";
  } catch (e) {
    $("error").textContent = `no answer from the server: ${e}`;
    document.body.dataset.state = "error";
  } finally {
    $("go").disabled = false;
    document.body.dataset.updated = String(Date.now());
  }
}

document.addEventListener("DOMContentLoaded", () => {
  readAddress();
  $("controls").addEventListener("submit", update);
  update();
});
