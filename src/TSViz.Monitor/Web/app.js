"use strict";
// TSViz Monitor operator view: plain JS, no build step. Colours: viridis (readable with colour-vision deficiencies);
// every colour-coded quantity is also drawn as a height or written as a number.

const errors = [];
function report(message) {
  errors.push(String(message));
  const pre = document.getElementById("tsviz-errors");
  pre.textContent = errors.join("\n");
  pre.hidden = false;
}
const consoleError = console.error.bind(console);
console.error = (...args) => { report(args.join(" ")); consoleError(...args); };
window.addEventListener("error", e => report(e.message));
window.addEventListener("unhandledrejection", e => report(e.reason && e.reason.message || e.reason));

const main = document.getElementById("main");
let timer = null;
// Bumped on every navigation: a reply that arrives after the user moved on must not draw into the new page.
let generation = 0;

// Signing in: an API key or an OpenID Connect token, kept for this browser tab only (sessionStorage) and sent by
// api() alone, as an Authorization header. `me` is GET /api/whoami's answer: name, role, method, authentication.
const CREDENTIAL = "tsviz.credential";
const RANKS = ["viewer", "operator", "engineer", "admin"];
let me = null;
const may = role => me !== null && RANKS.indexOf(me.role) >= RANKS.indexOf(role);
// A control the role may not use is disabled, and says why next to it.
const needs = role => may(role) ? "" : " disabled aria-describedby=\"needs-" + role + "\"";
const needsNote = role => may(role) ? "" : ` <span class="muted" id="needs-${role}">(needs the ${role} role; you are ${esc(me && me.role || "without a role")})</span>`;

function withCredential(options = {}) {
  const credential = sessionStorage.getItem(CREDENTIAL);
  return credential ? { ...options, headers: { ...options.headers, Authorization: `Bearer ${credential}` } } : options;
}

async function api(path, options, attempt = 0) {
  const response = await fetch(path, withCredential(options));
  if (response.status === 401) {
    showSignIn("Your sign-in was not accepted or has expired; sign in again.");
    throw new Error(`${path}: 401 sign-in needed`);
  }
  // 429: the on-demand explanations are at their limit (Monitor:Interactive); wait as told, then ask again.
  if (response.status === 429 && attempt < 5) {
    const seconds = Number(response.headers.get("Retry-After")) || 1;
    await new Promise(resolve => setTimeout(resolve, seconds * 1000));
    return api(path, options, attempt + 1);
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new Error(`${path}: ${response.status} ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (x, d = 3) => x === null || x === undefined ? "-" : Number(x).toFixed(d);
const when = t => t ? new Date(t).toLocaleString() : "-";

// Viridis, 9 stops.
const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];
const viridis = v => VIRIDIS[Math.max(0, Math.min(VIRIDIS.length - 1, Math.round(v * (VIRIDIS.length - 1))))];

function route() {
  clearInterval(timer);
  generation++;
  const hash = location.hash || "#/";
  const match = hash.match(/^#\/alert\/(.+)$/);
  const model = hash.match(/^#\/model(?:\/([^/]+)(?:\/([^/]+)\/(\d+)(?:\/(\d+))?)?)?$/);
  const chosen = model && model[2] ? { layer: decodeURIComponent(model[2]), filter: Number(model[3]), step: model[4] ? Number(model[4]) : null } : null;
  const query = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
  (match ? alertPage(decodeURIComponent(match[1])) : model ? modelPage(model[1] ? decodeURIComponent(model[1]) : null, chosen)
    : alertsPage(query.get("machine") || "", query.get("status") || "")).catch(e => report(e.message));
}
window.addEventListener("hashchange", route);

async function alertsPage(machine, status) {
  document.title = "Alerts - TSViz Monitor";
  main.innerHTML = `<h2>Alerts</h2><p class="muted">Newest first; updates every 2 seconds.</p>
    <form id="alert-filters" class="filters"><label>Machine <input id="filter-machine" type="text" size="12" value="${esc(machine)}" placeholder="all"></label>
    <label>Status <select id="filter-status">${["", "open", "closed"].map(v => `<option value="${v}"${v === status ? " selected" : ""}>${v || "all"}</option>`).join("")}</select></label>
    <button type="submit">Show</button></form>
    <table><caption class="muted" style="text-align:left">Alert episodes</caption><thead><tr>
    <th scope="col">Machine</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col">Peak score</th>
    <th scope="col">Dominant channel</th><th scope="col">Feedback</th></tr></thead><tbody id="alert-rows"></tbody></table>`;
  const refresh = async () => {
    const filter = new URLSearchParams({ limit: "50" });
    if (machine) filter.set("machine", machine);
    if (status) filter.set("status", status);
    const page = await api(`/api/alerts?${filter}`);
    const rows = document.getElementById("alert-rows");
    if (!rows) return;
    const html = page.items.length === 0
      ? `<tr><td colspan="6" class="muted">${machine || status ? "No alerts match." : "No alerts yet."}</td></tr>`
      : page.items.map(a => `<tr data-alert-id="${esc(a.id)}" data-machine="${esc(a.machine)}" data-channel="${esc(a.dominantChannel)}">
          <td><a href="#/alert/${encodeURIComponent(a.id)}">${esc(a.machine)}</a></td>
          <td class="status-${esc(a.status)}">${esc(a.status)}</td><td>${esc(when(a.since))}</td>
          <td>${fmt(a.peakScore)}</td><td>${esc(a.dominantChannel)}</td><td>${esc(a.lastFeedback || "none")}</td></tr>`).join("");
    // Re-render only on a change, and keep the keyboard focus on the alert it was on.
    if (html === rows.dataset.html) return;
    const focused = document.activeElement && document.activeElement.closest("tr[data-alert-id]");
    const id = focused ? focused.dataset.alertId : null;
    rows.innerHTML = html;
    rows.dataset.html = html;
    const again = id && [...rows.querySelectorAll("tr[data-alert-id]")].find(r => r.dataset.alertId === id);
    if (again) again.querySelector("a").focus();
  };
  // The filters live in the address (#/?machine=m2&status=open), so a filtered list can be bookmarked.
  const apply = event => {
    if (event) event.preventDefault();
    const next = new URLSearchParams();
    const m = document.getElementById("filter-machine").value.trim(), st = document.getElementById("filter-status").value;
    if (m) next.set("machine", m);
    if (st) next.set("status", st);
    location.hash = next.toString() ? `#/?${next}` : "#/";
  };
  document.getElementById("alert-filters").addEventListener("submit", apply);
  document.getElementById("filter-status").addEventListener("change", () => apply());
  await refresh();
  timer = setInterval(() => refresh().catch(e => report(e.message)), 2000);
}

// One channel: the input as a line over bars whose height and colour are the saliency at each step.
function channelChart(name, input, saliency, topStep, overlay, overlayTitle = "adversarial window", range = null) {
  const w = 760, h = 130, pad = 28, n = input.length;
  const all = overlay ? input.concat(overlay) : input;
  const [lo, hi] = range || [Math.min(...all), Math.max(...all)], span = hi - lo || 1;
  const x = i => pad + (i * (w - 2 * pad)) / Math.max(1, n - 1);
  const y = v => h - pad - ((v - lo) / span) * (h - 2 * pad);
  const barW = (w - 2 * pad) / n;
  const bars = (saliency || []).map((s, i) => `<rect data-s="${s}" x="${(x(i) - barW / 2).toFixed(1)}" y="${(h - pad - s * (h - 2 * pad)).toFixed(1)}"
      width="${barW.toFixed(1)}" height="${(s * (h - 2 * pad)).toFixed(1)}" fill="${viridis(s)}" opacity="0.55"><title>step ${i}: saliency ${fmt(s)}</title></rect>`).join("");
  const line = values => values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const peak = topStep !== null && topStep !== undefined
    ? `<line x1="${x(topStep)}" x2="${x(topStep)}" y1="${pad / 2}" y2="${h - pad}" stroke="#1b1b1b" stroke-dasharray="3 3"/><text x="${x(topStep) + 4}" y="${pad / 2 + 8}">top step ${topStep}</text>` : "";
  const adversarial = overlay ? `<path d="${line(overlay)}" fill="none" stroke="#b8410b" stroke-width="1.5" stroke-dasharray="6 3"><title>${esc(overlayTitle)}</title></path>` : "";
  return `<figure class="channel" data-channel="${esc(name)}">
    <figcaption><strong>${esc(name)}</strong> ${saliency ? `<span class="muted">max saliency ${fmt(Math.max(...saliency))}</span>` : ""}</figcaption>
    <svg role="img" aria-label="${esc(name)}: ${saliency ? "input with saliency per step" : `solid line and ${esc(overlayTitle)}`}" viewBox="0 0 ${w} ${h}" width="100%">
      ${bars}<path d="${line(input)}" fill="none" stroke="#1b1b1b" stroke-width="1.5"/>${adversarial}${peak}
      <text x="${pad}" y="${h - 8}">step 0</text><text x="${w - pad - 40}" y="${h - 8}">step ${n - 1}</text>
    </svg></figure>`;
}

async function alertPage(id) {
  document.title = "Alert - TSViz Monitor";
  main.innerHTML = `<p class="muted">Loading alert...</p>`;
  const gen = generation;
  const enc = encodeURIComponent(id);
  const [detail, similar, adversarial] = await Promise.all([
    api(`/api/alerts/${enc}`),
    api(`/api/alerts/${enc}/similar?limit=5`),
    may("engineer") ? api(`/api/alerts/${enc}/adversarial`).catch(() => null) : null,
  ]);
  if (gen !== generation) return;
  const a = detail.alert, peak = detail.peakWindow, e = peak && peak.explanation;
  const channels = e ? Object.keys(e.channelContributions) : [];
  const topStep = e && e.topSteps.length ? e.topSteps[0] : null;
  let html = `<p><a href="#/">&larr; All alerts</a></p>
    <h2>${esc(a.machine)}: alert <span class="status-${esc(a.status)}">${esc(a.status)}</span></h2>
    <div class="kv"><span>Since</span><span>${esc(when(a.since))}</span><span>Peak score</span><span>${fmt(a.peakScore)}</span>
    <span>Dominant channel</span><span id="dominant">${esc(a.dominantChannel)}</span><span>Model</span><span>${esc(a.modelVersion)}</span></div>
    ${peak && peak.hasDetail ? `<p><a href="#/model/${encodeURIComponent(peak.id)}">Explore this window in the network explorer</a></p>` : ""}`;
  if (e) {
    html += `<section id="saliency"><h2>Why: the peak window and where the model looked</h2>
      <p class="legend">Black line: the sensor values. Bars: saliency of each time step (taller and brighter = more influence on the score).
      Dashed line: the single most salient step (${esc(topStep ? topStep.channel : "-")}, step ${esc(topStep ? topStep.step : "-")}).</p>
      ${channels.map((c, k) => channelChart(c, peak.input[k], e.saliency[k], topStep && topStep.channel === c ? topStep.step : null, null)).join("")}</section>
      <div class="grid"><section id="contributions"><h2>Channel contributions</h2>
      ${channels.map(c => `<div class="bar"><span class="label">${esc(c)}</span><div class="track"><div class="fill" style="width:${(100 * e.channelContributions[c]).toFixed(1)}%"></div></div><span>${(100 * e.channelContributions[c]).toFixed(1)} %</span></div>`).join("")}
      </section><section id="filters"><h2>Filters that mattered</h2><table><thead><tr><th scope="col">Layer</th><th scope="col">Filter</th><th scope="col">Influence</th><th scope="col">Scaled</th><th scope="col">Activation over the window</th></tr></thead><tbody>
      ${e.topFilters.map(f => `<tr><td>${esc(f.layer)}</td><td><a href="#/model/${encodeURIComponent(peak.id)}/${encodeURIComponent(f.layer)}/${f.index}" title="trace it in the network explorer">${f.index}</a></td><td>${fmt(f.influence, 4)}</td><td>${fmt(f.influenceScaled, 2)}</td>
        <td class="activation" data-layer="${esc(f.layer)}" data-filter="${f.index}"><span class="muted">${peak.hasDetail ? "..." : "-"}</span></td></tr>`).join("")}</tbody></table>
      ${(e.filterSaliency || []).length ? `<p class="legend">Each top filter's own input saliency (which points of the window drive that filter):</p>` : ""}
      ${(e.filterSaliency || []).map(m => `<details><summary>${esc(m.layer)} filter ${m.filter}</summary>${channels.map((c, k) => channelChart(c, peak.input[k], m.saliency[k], null, null)).join("")}</details>`).join("")}
      </section></div>`;
  } else {
    html += `<section><p class="muted">The peak window's full explanation is not in the history (retention may have removed it).</p></section>`;
  }

  if (!may("engineer")) {
    html += `<section id="robustness"><h2>Robustness</h2><p class="muted">The adversarial window is computed on demand and needs the engineer role; you are ${esc(me && me.role || "without a role")}.</p></section>`;
  } else if (adversarial) {
    html += `<section id="robustness"><h2>Robustness</h2>
      <p>Score ${fmt(adversarial.scoreBefore)} becomes ${fmt(adversarial.scoreAfter)} after an FGSM step of eps ${fmt(adversarial.epsilon, 2)}
      (${adversarial.flipped ? "the decision flips" : "the decision holds"})${e && e.robustness.smallestFlippingEpsilon ? `; the smallest eps that flips it is ${fmt(e.robustness.smallestFlippingEpsilon, 3)}` : ""}.</p>
      <p class="legend">Model input (standardised per channel): solid = original, dashed = adversarial.</p>
      ${channels.map((c, k) => channelChart(c, adversarial.window[k], null, null, adversarial.adversarialWindow[k])).join("")}</section>`;
  }

  html += `<section id="similar"><h2>Has this happened before?</h2>${similar.length === 0 ? `<p class="muted">No earlier alerts of this model.</p>` :
    `<table><thead><tr><th scope="col">Similarity</th><th scope="col">Machine</th><th scope="col">Since</th><th scope="col">Dominant channel</th><th scope="col">Feedback</th></tr></thead><tbody>
    ${similar.map(s => `<tr><td>${fmt(s.similarity, 2)}</td><td><a href="#/alert/${encodeURIComponent(s.alert.id)}">${esc(s.alert.machine)}</a></td><td>${esc(when(s.alert.since))}</td><td>${esc(s.alert.dominantChannel)}</td><td>${esc(s.alert.lastFeedback || "none")}</td></tr>`).join("")}</tbody></table>`}</section>
    <section id="feedback"><h2>Feedback</h2>
    <ul>${detail.feedback.map(f => `<li>${esc(f.kind)} by ${esc(f.author)} ${esc(when(f.at))}${f.comment ? `: ${esc(f.comment)}` : ""}</li>`).join("") || `<li class="muted">None yet.</li>`}</ul>
    <form id="feedback-form"><p class="muted">Given as ${esc(me ? me.name : "-")}.</p>
    <label>Comment <input type="text" name="comment" size="40"${needs("operator")}></label>
    <button type="submit" name="kind" value="acknowledge"${needs("operator")}>Acknowledge</button> <button type="submit" name="kind" value="confirm"${needs("operator")}>Confirm</button>
    <button type="submit" name="kind" value="false_alarm"${needs("operator")}>False alarm</button>${needsNote("operator")}</form></section>`;
  main.innerHTML = html;
  if (e && peak.hasDetail) {
    // The top filters' activations, computed on the deployed weights from the stored input.
    api(`/api/windows/${encodeURIComponent(peak.id)}/influence`).then(influence => {
      if (gen !== generation) return;
      for (const cell of document.querySelectorAll("#filters td.activation")) {
        const layer = influence.layers.find(l => l.name === cell.dataset.layer);
        const values = layer && layer.activations[Number(cell.dataset.filter)];
        if (values) cell.innerHTML = `${sparkline(values, 120, 22, argmax(values))} <span class="num">max ${fmt(Math.max(...values), 2)}</span>`;
      }
    }).catch(err => report(err.message));
  }
  document.getElementById("feedback-form").addEventListener("submit", async event => {
    event.preventDefault();
    const form = event.target, kind = event.submitter ? event.submitter.value : "acknowledge";
    await api(`/api/alerts/${enc}/feedback`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind, comment: form.comment.value || null }) }).catch(e => alert(e.message));
    route();
  });
  main.focus();
}

// Network explorer (the TSViz levels): 1 architecture; 2 every layer's filters as line plots sorted by influence,
// with a percentile filter and the selected filter's input saliency; 3 one layer's filters on a grid; 4 that grid
// coloured by the nightly clusters, with the silhouette curve; recursive highlighting from one activation back to the
// input; inverse optimisation; the pruning view (dataset influence and faithfulness from the nightly analysis).
// Route: #/model[/<window id>[/<layer>/<filter>/<step>]] (the window id URI-encoded).

// Okabe-Ito: a categorical palette distinguishable with colour-vision deficiencies; cluster numbers are also written.
const CLUSTER_COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"];
const clusterColour = c => CLUSTER_COLOURS[c % CLUSTER_COLOURS.length];
// Past eight clusters the colours repeat with another border style (solid, dashed, dotted), and every cell names its cluster.
const clusterBorder = c => ["solid", "dashed", "dotted"][Math.floor(c / CLUSTER_COLOURS.length) % 3];
let explorer = null;

function sparkline(values, w, h, mark) {
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1, n = values.length;
  const x = i => 1 + (i * (w - 2)) / Math.max(1, n - 1), y = v => h - 2 - ((v - lo) / span) * (h - 4);
  const path = values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const dot = mark !== null && mark !== undefined ? `<circle cx="${x(mark).toFixed(1)}" cy="${y(values[mark]).toFixed(1)}" r="2.5" fill="#1b1b1b"/>` : "";
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-hidden="true"><path d="${path}" fill="none" stroke="#1b1b1b" stroke-width="1"/>${dot}</svg>`;
}

const argmax = values => values.reduce((best, v, i) => v > values[best] ? i : best, 0);

async function modelPage(windowId, chosen) {
  document.title = "Model - TSViz Monitor";
  main.innerHTML = `<p class="muted">Loading the model...</p>`;
  const gen = generation;
  const [model, alerts, normal, analyses] = await Promise.all([
    api("/api/model"),
    api("/api/alerts?limit=20"),
    api("/api/windows?reasonCode=normal&hasDetail=true&limit=10"),
    api("/api/analyses?job=analysis&limit=1").catch(() => ({ items: [] })),
  ]);
  if (!windowId && alerts.items.length) windowId = alerts.items[0].peakWindowId;
  const influence = windowId ? await api(`/api/windows/${encodeURIComponent(windowId)}/influence`).catch(e => { report(e.message); return null; }) : null;
  if (gen !== generation) return;
  const latest = analyses.items.length ? analyses.items[0] : null;
  const analysis = latest && latest.summary.modelVersion === model.version && latest.summary.model === model.name ? latest : null;
  const last = model.layers[model.layers.length - 1];
  explorer = { gen, model, windowId, influence, analysis, gridLayer: last.name, byCluster: !!analysis, order: "influence", selected: null, ticket: 0, inversionTicket: 0 };

  let html = `<h2>Network explorer: ${esc(model.name)} ${esc(model.version)}</h2>
    <p><label for="window-choice">Window</label> <select id="window-choice">
      ${windowId && !alerts.items.some(a => a.peakWindowId === windowId) && !normal.items.some(w => w.id === windowId) ? `<option value="${esc(windowId)}" selected>${esc(windowId)}</option>` : ""}<optgroup label="Alert peaks">${alerts.items.map(a =>
      `<option value="${esc(a.peakWindowId)}"${a.peakWindowId === windowId ? " selected" : ""}>${esc(a.machine)}, ${esc(when(a.since))}, peak ${fmt(a.peakScore)}</option>`).join("")}</optgroup>
      <optgroup label="Normal windows (kept as a sample)">${normal.items.map(w =>
      `<option value="${esc(w.id)}"${w.id === windowId ? " selected" : ""}>${esc(w.machine)}, ${esc(when(w.windowEnd))}, score ${fmt(w.score)}</option>`).join("")}</optgroup>
</select>
      ${influence ? `<span class="muted">score ${fmt(influence.score)}</span>` : ""}</p>
    <section id="architecture"><h2>Level 1: architecture</h2><table><thead><tr><th scope="col">Stage</th><th scope="col">Filters / channels</th><th scope="col">Length</th><th scope="col">Activation</th>${influence ? `<th scope="col">Share of influence (this window)</th>` : ""}</tr></thead><tbody>
    <tr><td>input</td><td>${model.channels.length} (${model.channels.map(esc).join(", ")})</td><td>${model.windowLength}</td><td>${esc(model.preprocessing)}</td>${influence ? "<td>-</td>" : ""}</tr>
    ${model.layers.map((l, i) => `<tr data-layer="${esc(l.name)}"><td>${esc(l.name)}</td><td>${l.filters}</td><td>${l.outputLength}</td><td>${esc(l.activation)}</td>${influence ? `<td>${layerShare(influence, i)}</td>` : ""}</tr>`).join("")}
    <tr><td>output</td><td>1 (anomaly score, threshold ${fmt(model.threshold, 2)})</td><td>-</td><td>-</td>${influence ? `<td>${fmt(influence.score)}</td>` : ""}</tr></tbody></table></section>`;

  if (influence) {
    html += `<section id="influence"><h2>Level 2: every layer's filters, most influential first</h2>
      <p>Showing filters at or above the <label for="percentile">percentile</label>
      <input id="percentile" type="range" min="0" max="100" step="5" value="50" aria-describedby="percentile-value">
      <output id="percentile-value">50</output> of their layer's influence for this window. Choose a filter to see its own input saliency and to trace it.</p>
      <div id="influence-layers"></div></section>
      <section id="selected"><h2>Selected filter</h2><div id="selected-body"><p class="muted">Choose a filter.</p></div></section>
      <section id="trace"><h2>Recursive highlighting</h2><div id="trace-body"><p class="muted">Choose an activation.</p></div></section>
      <section id="grid"><h2>Levels 3 and 4: a layer's filters on a grid${analysis ? ", coloured by the nightly clusters" : ""}</h2>
      <p><label for="grid-layer">Layer</label> <select id="grid-layer">${model.layers.map(l => `<option${l.name === last.name ? " selected" : ""}>${esc(l.name)}</option>`).join("")}</select>
      <label><input type="checkbox" id="by-cluster"${analysis ? " checked" : " disabled"}> colour by cluster</label>
      <label for="grid-order">order</label> <select id="grid-order"><option value="influence">influence</option><option value="cluster"${analysis ? "" : " disabled"}>cluster, then influence</option></select></p>
      <div id="grid-body"></div></section>`;
  } else {
    html += `<section id="influence"><h2>Level 2: filters by influence</h2><p class="muted">No stored window to explain yet (alert windows and a sample of the others are kept with their input).</p></section>`;
  }

  html += `<section id="inversion"><h2>What the model takes for an anomaly (inverse optimisation)</h2>
    <p><label for="inversion-target">Target score</label> <select id="inversion-target"${needs("engineer")}><option value="1">1: anomaly</option><option value="0">0: normal</option></select>${needsNote("engineer")}</p>
    <div id="inversion-body"><p class="muted">${may("engineer") ? "Optimising the input (1000 steps)..." : "Not computed: it is costly and needs the engineer role."}</p></div></section>`;
  html += `<section id="analysis"><h2>Pruning view: the nightly analysis</h2>`;
  if (analysis) {
    const summary = analysis.summary;
    html += `<p>From ${analysis.windows} stored windows, ${esc(when(analysis.at))}.</p>
      <table><thead><tr><th scope="col">Layer</th><th scope="col">Filters</th><th scope="col">Clusters (k)</th><th scope="col">Silhouette</th><th scope="col">Cluster sizes</th><th scope="col">Never active</th><th scope="col">Pruning candidates</th></tr></thead><tbody>
      ${summary.layers.map(l => `<tr><td>${esc(l.layer)}</td><td>${l.filters}</td><td>${l.k}</td><td>${fmt(l.silhouette, 2)}</td><td>${l.clusterSizes.join(", ")}</td><td>${l.deadFilters.length}</td><td>${l.pruningCandidates}</td></tr>`).join("")}</tbody></table>
      <p class="legend">Dataset influence per filter (Eq. 28): bar = mean, whisker = min to max; sorted by mean.</p>
      ${summary.layers.map(l => rangeChart(l)).join("")}
      <h3>Faithfulness: loss after zeroing one filter</h3><table><thead><tr><th scope="col">Layer</th><th scope="col">Zeroed</th><th scope="col">Filter</th><th scope="col">Loss</th><th scope="col">Change</th></tr></thead><tbody>
      ${summary.faithfulness.map(r => `<tr><td>${esc(r.layer)}</td><td>${esc(r.which)}</td><td>${r.filter ?? "-"}</td><td>${fmt(r.loss, 4)}</td><td>${r.percentChange === null || r.percentChange === undefined ? "-" : fmt(r.percentChange, 1) + " %"}</td></tr>`).join("")}</tbody></table>`;
  } else {
    html += `<p class="muted">No nightly analysis of this model yet. It runs at the configured time; <button id="run-analysis" type="button"${needs("engineer")}>Run it now</button>${needsNote("engineer")}</p>`;
  }
  main.innerHTML = html + `</section>`;

  document.getElementById("window-choice").addEventListener("change", e => { location.hash = `#/model/${encodeURIComponent(e.target.value)}`; });
  const run = document.getElementById("run-analysis");
  if (run) run.addEventListener("click", async () => {
    await api("/api/jobs/analysis/trigger", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    run.textContent = "Running...";
    run.disabled = true;
    // Redraw the explorer as soon as the analysis is stored (it takes seconds), unless the user moved on.
    for (let i = 0; i < 60 && gen === generation; i++) {
      await new Promise(resolve => setTimeout(resolve, 2000));
      if (gen === generation && (await api("/api/analyses?job=analysis&limit=1")).items.length) { route(); return; }
    }
    if (gen === generation) run.textContent = "Still running: reload later";
  });
  const target = document.getElementById("inversion-target");
  target.addEventListener("change", () => drawInversion(target.value));
  if (may("engineer")) drawInversion(target.value);
  if (influence) {
    const slider = document.getElementById("percentile");
    const draw = () => {
      document.getElementById("percentile-value").textContent = slider.value;
      document.getElementById("influence-layers").innerHTML = influence.layers.map(l => influenceRows(l, Number(slider.value))).join("");
    };
    slider.addEventListener("input", draw);
    draw();
    for (const id of ["influence-layers", "grid-body"]) {
      document.getElementById(id).addEventListener("click", e => {
        const button = e.target.closest("[data-select-filter]");
        if (button) selectFilter(button.dataset.layer, Number(button.dataset.filter), null).then(() => document.getElementById("selected").scrollIntoView());
      });
    }
    for (const [id, key] of [["grid-layer", "gridLayer"], ["grid-order", "order"]]) {
      document.getElementById(id).addEventListener("change", e => { explorer[key] = e.target.value; drawGrid(); });
    }
    document.getElementById("by-cluster").addEventListener("change", e => { explorer.byCluster = e.target.checked; drawGrid(); });
    drawGrid();
    // Default selection: the most influential filter of the last layer, at its strongest activation.
    const lastLayer = influence.layers[influence.layers.length - 1];
    const pick = chosen || { layer: lastLayer.name, filter: lastLayer.ranking[0], step: null };
    await selectFilter(pick.layer, pick.filter, pick.step);
  }
  main.focus();
}

function layerShare(influence, i) {
  const sums = influence.layers.map(l => l.influence.reduce((a, b) => a + b, 0));
  const total = sums.reduce((a, b) => a + b, 0) || 1;
  return `${(100 * sums[i] / total).toFixed(1)} %`;
}

function influenceRows(layer, percentile) {
  const sorted = [...layer.scaled].sort((a, b) => a - b);
  const cut = sorted[Math.min(sorted.length - 1, Math.floor((percentile / 100) * sorted.length))];
  const shown = layer.ranking.filter(f => layer.scaled[f] >= cut);
  return `<figure class="layer" data-layer="${esc(layer.name)}" data-shown="${shown.length}"><figcaption><strong>${esc(layer.name)}</strong>
    <span class="muted">${shown.length} of ${layer.scaled.length} filters</span></figcaption>
    <div class="filters">${shown.map(f => `<button type="button" class="filter-row" data-select-filter data-layer="${esc(layer.name)}" data-filter="${f}" title="${esc(layer.name)} filter ${f}: scaled influence ${fmt(layer.scaled[f], 2)}; choose to trace it">
      <span class="label">filter ${f}</span><span class="track"><span class="fill" style="width:${(100 * layer.scaled[f]).toFixed(1)}%; background:${viridis(layer.scaled[f])}"></span></span>
      <span class="num">${fmt(layer.influence[f], 4)}</span>${sparkline(layer.activations[f], 180, 26, null)}</button>`).join("")}</div></figure>`;
}

function drawGrid() {
  const { influence, analysis, gridLayer, byCluster, order } = explorer;
  const layer = influence.layers.find(l => l.name === gridLayer);
  const summary = analysis ? analysis.summary.layers.find(l => l.layer === gridLayer) : null;
  const labels = summary && summary.labels ? summary.labels : null;
  const coloured = byCluster && labels;
  const filters = [...layer.ranking];
  if (order === "cluster" && labels) filters.sort((a, b) => labels[a] - labels[b] || layer.scaled[b] - layer.scaled[a]);
  const cells = filters.map(f => {
    const c = labels ? labels[f] : null;
    const style = coloured ? ` style="border:3px ${clusterBorder(c)} ${clusterColour(c)}; background:${clusterColour(c)}33"` : "";
    return `<button type="button" class="cell" data-select-filter data-layer="${esc(layer.name)}" data-filter="${f}"${c !== null ? ` data-cluster="${c}"` : ""}${style}
      aria-label="f${f}${coloured ? ` c${c}` : ""}: ${esc(layer.name)} filter ${f}${c !== null ? `, cluster ${c}` : ""}, scaled influence ${fmt(layer.scaled[f], 2)}">
      <span class="cell-label">f${f}${coloured ? ` <strong>c${c}</strong>` : ""}</span>${sparkline(layer.activations[f], 110, 34, null)}</button>`;
  }).join("");
  let side = `<p class="muted">No nightly clusters of this model yet.</p>`;
  if (summary && summary.silhouetteByK) {
    side = silhouetteChart(summary) + (coloured ? `<ul class="clusters" tabindex="0" aria-label="clusters of ${esc(summary.layer)}">${summary.clusterSizes.map((n, c) =>
      `<li><span class="swatch" style="background:${clusterColour(c)}33; border:3px ${clusterBorder(c)} ${clusterColour(c)}"></span>cluster ${c}: ${n} filter${n === 1 ? "" : "s"}, representative filter ${summary.representatives[c]}</li>`).join("")}</ul>` : "");
  } else if (summary) {
    side = `<p class="muted">This analysis predates per-filter clusters; run the analysis again.</p>`;
  }
  document.getElementById("grid-body").innerHTML = `<div class="grid-wrap"><div class="cells" data-layer="${esc(layer.name)}" data-coloured="${coloured ? "yes" : "no"}">${cells}</div>
    <div class="grid-side">${side}</div></div>`;
}

function silhouetteChart(summary) {
  const values = summary.silhouetteByK, w = 300, h = 150, pad = 30;
  const finite = values.filter(v => v !== null);
  if (!finite.length) return `<p class="muted">No silhouette scores.</p>`;
  const lo = Math.min(0, ...finite), hi = Math.max(...finite), span = hi - lo || 1, n = values.length;
  const x = i => pad + (i * (w - 2 * pad)) / Math.max(1, n - 1), y = v => h - pad - ((v - lo) / span) * (h - 2 * pad);
  const path = values.map((v, i) => v === null ? "" : `${i && values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const chosen = summary.k - 2;
  const mark = chosen >= 0 && chosen < n && values[chosen] !== null
    ? `<circle cx="${x(chosen).toFixed(1)}" cy="${y(values[chosen]).toFixed(1)}" r="4" fill="#D55E00"/><text x="${(x(chosen) + 6).toFixed(1)}" y="${(y(values[chosen]) - 6).toFixed(1)}">k = ${summary.k}</text>` : "";
  return `<figure class="silhouette" data-layer="${esc(summary.layer)}" data-points="${finite.length}" data-k="${summary.k}"><figcaption>Silhouette score by number of clusters k (chosen: the highest)</figcaption>
    <svg role="img" aria-label="silhouette score for k = 2 to ${n + 1}; highest at k = ${summary.k}" viewBox="0 0 ${w} ${h}" width="${w}">
    <path d="${path}" fill="none" stroke="#0072B2" stroke-width="1.5"/>${mark}
    <text x="${pad}" y="${h - 8}">k = 2</text><text x="${w - pad - 30}" y="${h - 8}">k = ${n + 1}</text><text x="2" y="${pad - 8}">${fmt(hi, 2)}</text></svg></figure>`;
}

async function selectFilter(layerName, filter, step) {
  const state = explorer, ticket = ++state.ticket;
  const { influence, model, windowId } = state;
  const layer = influence.layers.find(l => l.name === layerName);
  if (!layer || !(filter >= 0 && filter < layer.activations.length)) { report(`No filter ${layerName}/${filter} in this model.`); return; }
  const activation = layer.activations[filter];
  const t = step === null || step === undefined || step >= activation.length ? argmax(activation) : step;
  state.selected = { layer: layerName, filter, step: t };
  const trace = await api(`/api/windows/${encodeURIComponent(windowId)}/trace?layer=${encodeURIComponent(layerName)}&filter=${filter}&step=${t}`);
  // Only the newest choice on the page still shown draws (a slower, older reply is dropped).
  if (state !== explorer || state.gen !== generation || ticket !== state.ticket) return;
  const saliency = trace.filterSaliency, top = Math.max(...saliency.flat()) || 1;
  document.getElementById("selected-body").innerHTML = `<p><strong>${esc(layerName)} filter ${filter}</strong>: influence ${fmt(layer.influence[filter], 4)}
    (${fmt(layer.scaled[filter], 2)} of the layer's top). Its own input saliency (Eq. 11-13): which points of the window drive this filter.</p>
    ${model.channels.map((c, k) => channelChart(c, influence.modelInput[k], saliency[k].map(v => v / top), null, null)).join("")}`;
  drawTrace(state, trace, activation);
}

function drawTrace(state, trace, activation) {
  const { model, influence } = state;
  const w = 760, h = 110, pad = 28, n = activation.length;
  const lo = Math.min(0, ...activation), hi = Math.max(...activation), span = hi - lo || 1;
  const x = i => pad + (i + 0.5) * (w - 2 * pad) / n, y = v => h - pad - ((v - lo) / span) * (h - 2 * pad), bw = (w - 2 * pad) / n;
  const steps = activation.map((v, i) => `<rect class="step${i === trace.step ? " chosen" : ""}" data-step="${i}" tabindex="${i === trace.step ? 0 : -1}" role="button"
    aria-label="step ${i}: activation ${fmt(v)}${i === trace.step ? " (traced)" : ""}" x="${(x(i) - bw / 2).toFixed(1)}" y="${Math.min(y(v), y(0)).toFixed(1)}" width="${(bw * 0.9).toFixed(1)}"
    height="${Math.max(1, Math.abs(y(v) - y(0))).toFixed(1)}" fill="${i === trace.step ? "#D55E00" : "#3b528b"}"><title>step ${i}: ${fmt(v)}</title></rect>`).join("");
  let html = `<div data-layer="${esc(trace.layer)}" data-filter="${trace.filter}" data-step="${trace.step}" id="trace-target">
    <p>Activation ${fmt(trace.activation)} of <strong>${esc(trace.layer)} filter ${trace.filter}</strong> at step ${trace.step}. Choose another step
    (click, or arrow keys then Enter); the points below are the ones that produced it: its receptive field, through max-pooling only the maxima.</p>
    <svg id="trace-steps" viewBox="0 0 ${w} ${h}" width="100%" role="group" aria-label="${esc(trace.layer)} filter ${trace.filter} activation per step">${steps}
    <line x1="${pad}" x2="${w - pad}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#888"/><text x="${pad}" y="${h - 8}">step 0</text><text x="${w - pad - 40}" y="${h - 8}">step ${n - 1}</text></svg></div>`;
  for (const level of trace.levels) {
    if (level.level === "input") {
      html += `<h3>Input: ${level.points.length} points</h3><p class="legend">Model input (standardised). Large circles: the points that produced the activation (darker = larger gradient).</p>
        ${model.channels.map((c, k) => traceInputChart(c, influence.modelInput[k], level.points.filter(p => p.row === k))).join("")}`;
    } else {
      html += traceLayerGrid(level);
    }
  }
  const body = document.getElementById("trace-body");
  body.innerHTML = html;
  const svg = document.getElementById("trace-steps");
  const go = step => selectFilter(trace.layer, trace.filter, step).then(() => { const r = document.querySelector(`#trace-steps rect[data-step="${step}"]`); if (r) r.focus(); });
  svg.addEventListener("click", e => { const r = e.target.closest("rect[data-step]"); if (r) go(Number(r.dataset.step)); });
  svg.addEventListener("keydown", e => {
    const r = e.target.closest("rect[data-step]");
    if (!r) return;
    const i = Number(r.dataset.step);
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(i); }
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      const next = svg.querySelector(`rect[data-step="${Math.max(0, Math.min(n - 1, i + (e.key === "ArrowRight" ? 1 : -1)))}"]`);
      r.tabIndex = -1; next.tabIndex = 0; next.focus();
    }
  });
}

function traceLayerGrid(level) {
  const rows = [...new Set(level.points.map(p => p.row))].sort((a, b) => a - b);
  const cw = Math.max(4, Math.min(14, 700 / level.length)), ch = 7, w = 60 + level.length * cw, h = rows.length * ch + 4;
  const cells = level.points.map(p => `<rect class="traced" data-row="${p.row}" data-step="${p.step}" x="${(60 + p.step * cw).toFixed(1)}" y="${2 + rows.indexOf(p.row) * ch}" width="${(cw - 1).toFixed(1)}" height="${ch - 1}" fill="${viridis(1 - p.weight)}"><title>filter ${p.row}, step ${p.step}: ${fmt(p.weight, 2)}</title></rect>`).join("");
  const labels = rows.map((r, i) => `<text x="0" y="${2 + i * ch + ch - 1}" font-size="7">f${r}</text>`).join("");
  return `<figure class="trace-level" data-level="${esc(level.level)}" data-points="${level.points.length}"><figcaption><strong>${esc(level.level)}</strong>:
    ${level.points.length} activations in ${rows.length} of ${level.rows} filters (steps 0-${level.length - 1}; darker = larger gradient)</figcaption>
    <svg role="img" aria-label="${esc(level.level)}: ${level.points.length} activations that produced the traced one" viewBox="0 0 ${w} ${h}" width="${Math.min(760, w)}">
    <rect x="60" y="0" width="${level.length * cw}" height="${h}" fill="#f1f1f1"/>${labels}${cells}</svg></figure>`;
}

function traceInputChart(name, values, points) {
  const w = 760, h = 110, pad = 28, n = values.length;
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const x = i => pad + (i * (w - 2 * pad)) / Math.max(1, n - 1), y = v => h - pad - ((v - lo) / span) * (h - 2 * pad);
  const line = values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const dots = points.map(p => `<circle class="highlight" data-step="${p.step}" cx="${x(p.step).toFixed(1)}" cy="${y(values[p.step]).toFixed(1)}" r="${(3 + 4 * p.weight).toFixed(1)}"
    fill="${viridis(1 - p.weight)}" stroke="#1b1b1b"><title>step ${p.step}: ${fmt(p.weight, 2)}</title></circle>`).join("");
  return `<figure class="trace-input" data-channel="${esc(name)}" data-highlighted="${points.length}"><figcaption><strong>${esc(name)}</strong> <span class="muted">${points.length} points</span></figcaption>
    <svg role="img" aria-label="${esc(name)}: ${points.length} input points produced the traced activation" viewBox="0 0 ${w} ${h}" width="100%">
    <path d="${line}" fill="none" stroke="#888" stroke-width="1.2"/>${dots}<text x="${pad}" y="${h - 8}">step 0</text><text x="${w - pad - 40}" y="${h - 8}">step ${n - 1}</text></svg></figure>`;
}

async function drawInversion(target) {
  const state = explorer, ticket = ++state.inversionTicket;
  const body = document.getElementById("inversion-body");
  body.innerHTML = `<p class="muted">Optimising the input (1000 steps)...</p>`;
  let result;
  try {
    result = await api(`/api/model/inversion?target=${encodeURIComponent(target)}`);
  } catch (e) {
    if (ticket === state.inversionTicket) body.innerHTML = `<p class="muted">The inverse optimisation failed: ${esc(e.message)}</p>`;
    throw e;
  }
  if (!document.body.contains(body) || ticket !== state.inversionTicket) return;
  const best = result.starts.reduce((a, b) => Math.abs(b.scoreEnd - result.target) < Math.abs(a.scoreEnd - result.target) ? b : a);
  const channels = state.model.channels;
  const values = best.optimised.flat().concat(best.initial.flat()), range = [Math.min(...values), Math.max(...values)];
  const w = 760, h = 120, pad = 28;
  const trajectories = result.starts.map((s, i) => {
    const n = s.trajectory.length, x = j => pad + (j * (w - 2 * pad)) / Math.max(1, n - 1), y = v => h - pad - v * (h - 2 * pad);
    return `<path d="${s.trajectory.map((v, j) => `${j ? "L" : "M"}${x(j).toFixed(1)},${y(Math.max(0, Math.min(1, v))).toFixed(1)}`).join("")}" fill="none" stroke="${CLUSTER_COLOURS[i % CLUSTER_COLOURS.length]}" stroke-width="1.5" stroke-dasharray="${i ? "5 3" : ""}"><title>start ${i + 1}: ${fmt(s.scoreStart)} to ${fmt(s.scoreEnd)}</title></path>`;
  }).join("");
  body.innerHTML = `<div data-target="${result.target}" data-score-end="${best.scoreEnd}" id="inversion-result">
    <p>From random starts (N(0, 0.25)), ${result.steps} gradient steps of alpha ${result.alpha} on the input (Eq. 24-25) move the score towards ${result.target}:
    ${result.starts.map((s, i) => `start ${i + 1} ${fmt(s.scoreStart)} &rarr; <strong>${fmt(s.scoreEnd, 4)}</strong>`).join("; ")}. Below: the start that came closest, in model input space (standardised per channel; one scale for all channels);
    solid = the optimised input, dashed = where it started.</p>
    ${channels.map((c, k) => channelChart(c, best.optimised[k], null, null, best.initial[k], "random start", range)).join("")}
    <figure class="trajectory"><figcaption>Score after every ${result.trajectoryEvery} steps, each start</figcaption>
    <svg role="img" aria-label="score trajectories of ${result.starts.length} starts" viewBox="0 0 ${w} ${h}" width="100%">${trajectories}
    <text x="${pad}" y="${h - 8}">step 0</text><text x="${w - pad - 60}" y="${h - 8}">step ${result.steps}</text><text x="2" y="${pad}">1.0</text><text x="2" y="${h - pad}">0.0</text></svg></figure></div>`;
}

function rangeChart(layer) {
  const order = layer.meanInfluence.map((m, f) => f).sort((a, b) => layer.meanInfluence[b] - layer.meanInfluence[a]);
  const w = 760, h = 110, pad = 24, top = Math.max(...layer.maxInfluence) || 1, step = (w - 2 * pad) / order.length;
  const y = v => h - pad - (v / top) * (h - 2 * pad);
  const marks = order.map((f, k) => {
    const x = pad + k * step;
    return `<g data-filter="${f}"><rect x="${(x + step * 0.15).toFixed(1)}" y="${y(layer.meanInfluence[f]).toFixed(1)}" width="${(step * 0.7).toFixed(1)}" height="${(h - pad - y(layer.meanInfluence[f])).toFixed(1)}" fill="#3b528b"/>
      <line x1="${(x + step / 2).toFixed(1)}" x2="${(x + step / 2).toFixed(1)}" y1="${y(layer.maxInfluence[f]).toFixed(1)}" y2="${y(layer.minInfluence[f]).toFixed(1)}" stroke="#1b1b1b"/>
      <title>filter ${f}: mean ${fmt(layer.meanInfluence[f], 4)}, min ${fmt(layer.minInfluence[f], 4)}, max ${fmt(layer.maxInfluence[f], 4)}</title></g>`;
  }).join("");
  return `<figure class="dataset-influence" data-layer="${esc(layer.layer)}"><figcaption><strong>${esc(layer.layer)}</strong></figcaption>
    <svg role="img" aria-label="${esc(layer.layer)}: dataset influence per filter" viewBox="0 0 ${w} ${h}" width="100%">${marks}</svg></figure>`;
}

function showSignIn(message) {
  const dialog = document.getElementById("sign-in");
  document.getElementById("sign-in-message").textContent = message;
  if (!dialog.open) dialog.showModal();
}

function showIdentity() {
  document.getElementById("who").textContent = me.authentication === "off"
    ? `${me.name} (${me.role}; authentication off, loopback only)`
    : `Signed in as ${me.name} (${me.role || "no role"}, ${me.method === "api_key" ? "API key" : "token"})`;
  document.getElementById("sign-out").hidden = me.authentication === "off";
}

// Who am I: without a (valid) credential the monitor answers 401 and the sign-in dialog asks for one.
async function start() {
  const response = await fetch("/api/whoami", withCredential());
  if (response.status === 401) {
    showSignIn(sessionStorage.getItem(CREDENTIAL) ? "That key or token was not accepted." : "This monitor needs an API key or a sign-in token.");
    return;
  }
  if (!response.ok) throw new Error(`/api/whoami: ${response.status}`);
  me = await response.json();
  showIdentity();
  route();
}

document.getElementById("sign-in-form").addEventListener("submit", event => {
  event.preventDefault();
  const credential = event.target.credential.value.trim();
  if (!credential) return;
  sessionStorage.setItem(CREDENTIAL, credential);
  event.target.credential.value = "";
  document.getElementById("sign-in").close();
  start().catch(e => report(e.message));
});
document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(CREDENTIAL);
  me = null;
  clearInterval(timer);
  main.innerHTML = "";
  document.getElementById("who").textContent = "";
  document.getElementById("sign-out").hidden = true;
  showSignIn("Signed out.");
});

api("/health").then(h => { document.getElementById("model").textContent = `model ${h.model}`; }).catch(() => {});
start().catch(e => report(e.message));
