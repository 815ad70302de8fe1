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

async function api(path, options) {
  const response = await fetch(path, options);
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
  const hash = location.hash || "#/";
  const match = hash.match(/^#\/alert\/(.+)$/);
  const model = hash.match(/^#\/model(?:\/(.+))?$/);
  (match ? alertPage(decodeURIComponent(match[1])) : model ? modelPage(model[1] ? decodeURIComponent(model[1]) : null) : alertsPage()).catch(e => report(e.message));
}
window.addEventListener("hashchange", route);

async function alertsPage() {
  document.title = "Alerts - TSViz Monitor";
  main.innerHTML = `<h2>Alerts</h2><p class="muted">Newest first; updates every 2 seconds.</p>
    <table><caption class="muted" style="text-align:left">Alert episodes</caption><thead><tr>
    <th scope="col">Machine</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col">Peak score</th>
    <th scope="col">Dominant channel</th><th scope="col">Feedback</th></tr></thead><tbody id="alert-rows"></tbody></table>`;
  const refresh = async () => {
    const page = await api("/api/alerts?limit=50");
    const rows = document.getElementById("alert-rows");
    if (!rows) return;
    rows.innerHTML = page.items.length === 0
      ? `<tr><td colspan="6" class="muted">No alerts yet.</td></tr>`
      : page.items.map(a => `<tr data-alert-id="${esc(a.id)}" data-machine="${esc(a.machine)}" data-channel="${esc(a.dominantChannel)}">
          <td><a href="#/alert/${encodeURIComponent(a.id)}">${esc(a.machine)}</a></td>
          <td class="status-${esc(a.status)}">${esc(a.status)}</td><td>${esc(when(a.since))}</td>
          <td>${fmt(a.peakScore)}</td><td>${esc(a.dominantChannel)}</td><td>${esc(a.lastFeedback || "none")}</td></tr>`).join("");
  };
  await refresh();
  timer = setInterval(() => refresh().catch(e => report(e.message)), 2000);
}

// One channel: the input as a line over bars whose height and colour are the saliency at each step.
function channelChart(name, input, saliency, topStep, overlay, filterMaps) {
  const w = 760, h = 130, pad = 28, n = input.length;
  const all = overlay ? input.concat(overlay) : input;
  const lo = Math.min(...all), hi = Math.max(...all), span = hi - lo || 1;
  const x = i => pad + (i * (w - 2 * pad)) / Math.max(1, n - 1);
  const y = v => h - pad - ((v - lo) / span) * (h - 2 * pad);
  const barW = (w - 2 * pad) / n;
  const bars = (saliency || []).map((s, i) => `<rect data-s="${s}" x="${(x(i) - barW / 2).toFixed(1)}" y="${(h - pad - s * (h - 2 * pad)).toFixed(1)}"
      width="${barW.toFixed(1)}" height="${(s * (h - 2 * pad)).toFixed(1)}" fill="${viridis(s)}" opacity="0.55"><title>step ${i}: saliency ${fmt(s)}</title></rect>`).join("");
  const line = values => values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const peak = topStep !== null && topStep !== undefined
    ? `<line x1="${x(topStep)}" x2="${x(topStep)}" y1="${pad / 2}" y2="${h - pad}" stroke="#1b1b1b" stroke-dasharray="3 3"/><text x="${x(topStep) + 4}" y="${pad / 2 + 8}">top step ${topStep}</text>` : "";
  const adversarial = overlay ? `<path d="${line(overlay)}" fill="none" stroke="#b8410b" stroke-width="1.5" stroke-dasharray="6 3"><title>adversarial window</title></path>` : "";
  return `<figure class="channel" data-channel="${esc(name)}">
    <figcaption><strong>${esc(name)}</strong> ${saliency ? `<span class="muted">max saliency ${fmt(Math.max(...saliency))}</span>` : ""}</figcaption>
    <svg role="img" aria-label="${esc(name)}: ${saliency ? "input with saliency per step" : "original and adversarial window"}" viewBox="0 0 ${w} ${h}" width="100%">
      ${bars}<path d="${line(input)}" fill="none" stroke="#1b1b1b" stroke-width="1.5"/>${adversarial}${peak}
      <text x="${pad}" y="${h - 8}">step 0</text><text x="${w - pad - 40}" y="${h - 8}">step ${n - 1}</text>
    </svg></figure>`;
}

async function alertPage(id) {
  document.title = "Alert - TSViz Monitor";
  main.innerHTML = `<p class="muted">Loading alert...</p>`;
  const enc = encodeURIComponent(id);
  const [detail, similar, adversarial] = await Promise.all([
    api(`/api/alerts/${enc}`),
    api(`/api/alerts/${enc}/similar?limit=5`),
    api(`/api/alerts/${enc}/adversarial`).catch(() => null),
  ]);
  const a = detail.alert, peak = detail.peakWindow, e = peak && peak.explanation;
  const channels = e ? Object.keys(e.channelContributions) : [];
  const topStep = e && e.topSteps.length ? e.topSteps[0] : null;
  let html = `<p><a href="#/">&larr; All alerts</a></p>
    <h2>${esc(a.machine)}: alert <span class="status-${esc(a.status)}">${esc(a.status)}</span></h2>
    <div class="kv"><span>Since</span><span>${esc(when(a.since))}</span><span>Peak score</span><span>${fmt(a.peakScore)}</span>
    <span>Dominant channel</span><span id="dominant">${esc(a.dominantChannel)}</span><span>Model</span><span>${esc(a.modelVersion)}</span></div>`;
  if (e) {
    html += `<section id="saliency"><h2>Why: the peak window and where the model looked</h2>
      <p class="legend">Black line: the sensor values. Bars: saliency of each time step (taller and brighter = more influence on the score).
      Dashed line: the single most salient step (${esc(topStep ? topStep.channel : "-")}, step ${esc(topStep ? topStep.step : "-")}).</p>
      ${channels.map((c, k) => channelChart(c, peak.input[k], e.saliency[k], topStep && topStep.channel === c ? topStep.step : null, null)).join("")}</section>
      <div class="grid"><section id="contributions"><h2>Channel contributions</h2>
      ${channels.map(c => `<div class="bar"><span class="label">${esc(c)}</span><div class="track"><div class="fill" style="width:${(100 * e.channelContributions[c]).toFixed(1)}%"></div></div><span>${(100 * e.channelContributions[c]).toFixed(1)} %</span></div>`).join("")}
      </section><section id="filters"><h2>Filters that mattered</h2><table><thead><tr><th scope="col">Layer</th><th scope="col">Filter</th><th scope="col">Influence</th><th scope="col">Scaled</th></tr></thead><tbody>
      ${e.topFilters.map(f => `<tr><td>${esc(f.layer)}</td><td>${f.index}</td><td>${fmt(f.influence, 4)}</td><td>${fmt(f.influenceScaled, 2)}</td></tr>`).join("")}</tbody></table>
      ${(e.filterSaliency || []).length ? `<p class="legend">Each top filter's own input saliency (which points of the window drive that filter):</p>` : ""}
      ${(e.filterSaliency || []).map(m => `<details><summary>${esc(m.layer)} filter ${m.filter}</summary>${channels.map((c, k) => channelChart(c, peak.input[k], m.saliency[k], null, null)).join("")}</details>`).join("")}
      </section></div>`;
  } else {
    html += `<section><p class="muted">The peak window's full explanation is not in the history (retention may have removed it).</p></section>`;
  }

  if (adversarial) {
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
    <form id="feedback-form"><label>Your name <input type="text" name="author" required autocomplete="name"></label>
    <label>Comment <input type="text" name="comment" size="40"></label>
    <button type="submit" name="kind" value="acknowledge">Acknowledge</button> <button type="submit" name="kind" value="confirm">Confirm</button>
    <button type="submit" name="kind" value="false_alarm">False alarm</button></form></section>`;
  main.innerHTML = html;
  document.getElementById("feedback-form").addEventListener("submit", async event => {
    event.preventDefault();
    const form = event.target, kind = event.submitter ? event.submitter.value : "acknowledge";
    await api(`/api/alerts/${enc}/feedback`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind, author: form.author.value, comment: form.comment.value || null }) }).catch(e => alert(e.message));
    route();
  });
  main.focus();
}

// Network explorer: architecture (level 1), every layer's filters by influence for one window with a percentile
// filter (levels 2-3), and the nightly analysis: clusters, dataset influence per filter and faithfulness (level 4).
async function modelPage(windowId) {
  document.title = "Model - TSViz Monitor";
  main.innerHTML = `<p class="muted">Loading the model...</p>`;
  const model = await api("/api/model");
  if (!windowId) {
    const alerts = await api("/api/alerts?limit=1");
    windowId = alerts.items.length ? alerts.items[0].peakWindowId : null;
  }
  const [influence, analyses] = await Promise.all([
    windowId ? api(`/api/windows/${encodeURIComponent(windowId)}/influence`).catch(() => null) : null,
    api("/api/analyses?job=analysis&limit=1").catch(() => ({ items: [] })),
  ]);
  const analysis = analyses.items.length ? analyses.items[0] : null;
  let html = `<h2>Network explorer: ${esc(model.name)} ${esc(model.version)}</h2>
    <section id="architecture"><h2>Architecture</h2><table><thead><tr><th scope="col">Stage</th><th scope="col">Filters / channels</th><th scope="col">Length</th><th scope="col">Activation</th></tr></thead><tbody>
    <tr><td>input</td><td>${model.channels.length} (${model.channels.map(esc).join(", ")})</td><td>${model.windowLength}</td><td>-</td></tr>
    ${model.layers.map(l => `<tr data-layer="${esc(l.name)}"><td>${esc(l.name)}</td><td>${l.filters}</td><td>${l.outputLength}</td><td>${esc(l.activation)}</td></tr>`).join("")}
    <tr><td>output</td><td>1 (anomaly score, threshold ${fmt(model.threshold, 2)})</td><td>-</td><td>-</td></tr></tbody></table></section>`;
  html += `<section id="influence"><h2>Filters by influence</h2>`;
  if (influence) {
    html += `<p>Window <code>${esc(windowId)}</code>, score ${fmt(influence.score)}. Showing filters at or above the
      <label for="percentile">percentile</label> <input id="percentile" type="range" min="0" max="100" step="5" value="50" aria-describedby="percentile-value">
      <output id="percentile-value">50</output> of their layer's influence.</p><div id="influence-layers"></div>`;
  } else {
    html += `<p class="muted">No stored window to explain yet (alert windows and a sample of the others are kept with their input).</p>`;
  }
  html += `</section><section id="analysis"><h2>Nightly analysis: clusters, dataset influence, pruning</h2>`;
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
    html += `<p class="muted">No nightly analysis yet. It runs at the configured time; <button id="run-analysis" type="button">Run it now</button></p>`;
  }
  main.innerHTML = html + `</section>`;
  const run = document.getElementById("run-analysis");
  if (run) run.addEventListener("click", async () => { await api("/api/jobs/analysis/trigger", { method: "POST" }); run.textContent = "Started: reload in a few seconds"; });
  if (influence) {
    const slider = document.getElementById("percentile");
    const draw = () => {
      document.getElementById("percentile-value").textContent = slider.value;
      document.getElementById("influence-layers").innerHTML = influence.layers.map(l => influenceBars(l, Number(slider.value))).join("");
    };
    slider.addEventListener("input", draw);
    draw();
  }
  main.focus();
}

function influenceBars(layer, percentile) {
  const sorted = [...layer.scaled].sort((a, b) => a - b);
  const cut = sorted[Math.min(sorted.length - 1, Math.floor((percentile / 100) * sorted.length))];
  const shown = layer.ranking.filter(f => layer.scaled[f] >= cut);
  return `<figure class="layer" data-layer="${esc(layer.name)}" data-shown="${shown.length}"><figcaption><strong>${esc(layer.name)}</strong>
    <span class="muted">${shown.length} of ${layer.scaled.length} filters</span></figcaption>
    <div class="filters">${shown.map(f => `<div class="bar" data-filter="${f}"><span class="label">filter ${f}</span><div class="track"><div class="fill" style="width:${(100 * layer.scaled[f]).toFixed(1)}%; background:${viridis(layer.scaled[f])}"></div></div><span>${fmt(layer.influence[f], 4)}</span></div>`).join("")}</div></figure>`;
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

api("/health").then(h => { document.getElementById("model").textContent = `model ${h.model}`; }).catch(() => {});
route();
