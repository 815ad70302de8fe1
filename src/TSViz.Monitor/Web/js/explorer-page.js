// The network explorer (#/model[/<window id>[/<layer>/<filter>/<step>]]), the TSViz levels: 1 architecture;
// 2 every layer's filters as line plots sorted by influence, with a percentile filter and the selected filter's input
// saliency; 3 one layer's filters on a grid; 4 that grid coloured by the nightly clusters, with the silhouette curve;
// recursive highlighting from one activation back to the input; inverse optimisation; the pruning view (dataset
// influence and faithfulness from the nightly analysis).
//
// The page owns one state object, handed to the parts that draw into it:
// { visit, model, windowId, influence, analysis, gridLayer, byCluster, order, selected, ticket, inversionTicket }.
import { api, postJson } from "./api.js";
import { drawGrid } from "./explorer-grid.js";
import { influenceRows } from "./explorer-influence.js";
import { drawInversion } from "./explorer-inversion.js";
import { pruningSection } from "./explorer-pruning.js";
import { selectFilter } from "./explorer-trace.js";
import { report } from "./errors.js";
import { esc, fmt, when } from "./format.js";
import { may, needs, needsNote } from "./session.js";

const ANALYSIS_POLL_MS = 2000;
const ANALYSIS_POLLS = 60;

export async function explorerPage(visit, { windowId, chosen }) {
  document.title = "Model - TSViz Monitor";
  visit.main.innerHTML = `<p class="muted">Loading the model...</p>`;
  const [model, alerts, normal, analyses] = await Promise.all([
    api("/api/model"),
    api("/api/alerts?limit=20"),
    api("/api/windows?reasonCode=normal&hasDetail=true&limit=10"),
    api("/api/analyses?job=analysis&limit=1").catch(() => ({ items: [] })),
  ]);
  if (!windowId && alerts.items.length) windowId = alerts.items[0].peakWindowId;
  const influence = windowId
    ? await api(`/api/windows/${encodeURIComponent(windowId)}/influence`).catch(e => {
      report(e.message);
      return null;
    })
    : null;
  if (visit.signal.aborted) return;
  const latest = analyses.items.length ? analyses.items[0] : null;
  const analysis = latest && latest.summary.modelVersion === model.version && latest.summary.model === model.name
    ? latest : null;
  const last = model.layers[model.layers.length - 1];
  const state = {
    visit, model, windowId, influence, analysis, gridLayer: last.name, byCluster: !!analysis, order: "influence",
    selected: null, ticket: 0, inversionTicket: 0,
  };

  visit.main.innerHTML = `<h2>Network explorer: ${esc(model.name)} ${esc(model.version)}</h2>
    ${windowChoice(windowId, alerts.items, normal.items, influence)}
    ${architectureSection(model, influence)}
    ${influence ? levelSections(model, analysis) : noWindowSection()}
    ${inversionSection()}
    <section id="analysis"><h2>Pruning view: the nightly analysis</h2>${
      analysis ? pruningSection(analysis) : noAnalysis()}</section>`;

  document.getElementById("window-choice").addEventListener("change", e => {
    location.hash = `#/model/${encodeURIComponent(e.target.value)}`;
  });
  const run = document.getElementById("run-analysis");
  if (run) run.addEventListener("click", () => runAnalysis(visit, run));
  const target = document.getElementById("inversion-target");
  target.addEventListener("change", () => drawInversion(state, target.value));
  if (may("engineer")) drawInversion(state, target.value);
  if (influence) await bindLevels(state, chosen);
  visit.main.focus();
}

function windowChoice(windowId, alerts, normal, influence) {
  const other = windowId && !alerts.some(a => a.peakWindowId === windowId) && !normal.some(w => w.id === windowId)
    ? `<option value="${esc(windowId)}" selected>${esc(windowId)}</option>` : "";
  const peaks = alerts.map(a => windowOption(a.peakWindowId, windowId,
    `${esc(a.machine)}, ${esc(when(a.since))}, peak ${fmt(a.peakScore)}`)).join("");
  const kept = normal.map(w => windowOption(w.id, windowId,
    `${esc(w.machine)}, ${esc(when(w.windowEnd))}, score ${fmt(w.score)}`)).join("");
  return `<p><label for="window-choice">Window</label> <select id="window-choice">
    ${other}<optgroup label="Alert peaks">${peaks}</optgroup>
    <optgroup label="Normal windows (kept as a sample)">${kept}</optgroup>
    </select>
    ${influence ? `<span class="muted">score ${fmt(influence.score)}</span>` : ""}</p>`;
}

function windowOption(id, chosen, label) {
  return `<option value="${esc(id)}"${id === chosen ? " selected" : ""}>${label}</option>`;
}

function architectureSection(model, influence) {
  const share = influence ? `<th scope="col">Share of influence (this window)</th>` : "";
  const layers = model.layers.map((l, i) => `<tr data-layer="${esc(l.name)}"><td>${esc(l.name)}</td>
    <td>${l.filters}</td><td>${l.outputLength}</td><td>${esc(l.activation)}</td>
    ${influence ? `<td>${layerShare(influence, i)}</td>` : ""}</tr>`).join("");
  return `<section id="architecture"><h2>Level 1: architecture</h2><table><thead><tr><th scope="col">Stage</th>
    <th scope="col">Filters / channels</th><th scope="col">Length</th><th scope="col">Activation</th>${share}
    </tr></thead><tbody>
    <tr><td>input</td><td>${model.channels.length} (${model.channels.map(esc).join(", ")})</td>
    <td>${model.windowLength}</td><td>${esc(model.preprocessing)}</td>${influence ? "<td>-</td>" : ""}</tr>
    ${layers}
    <tr><td>output</td><td>1 (anomaly score, threshold ${fmt(model.threshold, 2)})</td><td>-</td><td>-</td>
    ${influence ? `<td>${fmt(influence.score)}</td>` : ""}</tr></tbody></table></section>`;
}

// A layer's share of the summed influence of all layers for this window.
function layerShare(influence, i) {
  const sums = influence.layers.map(l => l.influence.reduce((a, b) => a + b, 0));
  const total = sums.reduce((a, b) => a + b, 0) || 1;
  return `${(100 * sums[i] / total).toFixed(1)} %`;
}

function levelSections(model, analysis) {
  const last = model.layers[model.layers.length - 1];
  const layers = model.layers
    .map(l => `<option${l.name === last.name ? " selected" : ""}>${esc(l.name)}</option>`).join("");
  return `<section id="influence"><h2>Level 2: every layer's filters, most influential first</h2>
    <p>Showing filters at or above the <label for="percentile">percentile</label>
    <input id="percentile" type="range" min="0" max="100" step="5" value="50" aria-describedby="percentile-value">
    <output id="percentile-value">50</output> of their layer's influence for this window. Choose a filter to see its
    own input saliency and to trace it.</p>
    <div id="influence-layers"></div></section>
    <section id="selected"><h2>Selected filter</h2><div id="selected-body"><p class="muted">Choose a filter.</p></div>
    </section>
    <section id="trace"><h2>Recursive highlighting</h2><div id="trace-body"><p class="muted">Choose an activation.</p>
    </div></section>
    <section id="grid"><h2>Levels 3 and 4: a layer's filters on a grid${
      analysis ? ", coloured by the nightly clusters" : ""}</h2>
    <p><label for="grid-layer">Layer</label> <select id="grid-layer">${layers}</select>
    <label><input type="checkbox" id="by-cluster"${analysis ? " checked" : " disabled"}> colour by cluster</label>
    <label for="grid-order">order</label> <select id="grid-order"><option value="influence">influence</option>
    <option value="cluster"${analysis ? "" : " disabled"}>cluster, then influence</option></select></p>
    <div id="grid-body"></div></section>`;
}

function noWindowSection() {
  return `<section id="influence"><h2>Level 2: filters by influence</h2><p class="muted">No stored window to explain
    yet (alert windows and a sample of the others are kept with their input).</p></section>`;
}

function inversionSection() {
  const waiting = may("engineer")
    ? "Optimising the input (1000 steps)..." : "Not computed: it is costly and needs the engineer role.";
  return `<section id="inversion"><h2>What the model takes for an anomaly (inverse optimisation)</h2>
    <p><label for="inversion-target">Target score</label> <select id="inversion-target"${needs("engineer")}>
    <option value="1">1: anomaly</option><option value="0">0: normal</option></select>${needsNote("engineer")}</p>
    <div id="inversion-body"><p class="muted">${waiting}</p></div></section>`;
}

function noAnalysis() {
  return `<p class="muted">No nightly analysis of this model yet. It runs at the configured time;
    <button id="run-analysis" type="button"${needs("engineer")}>Run it now</button>${needsNote("engineer")}</p>`;
}

// Runs the analysis, and draws the explorer again as soon as it is stored (it takes seconds), unless the user
// moved on.
async function runAnalysis(visit, button) {
  await postJson("/api/jobs/analysis/trigger", {});
  button.textContent = "Running...";
  button.disabled = true;
  for (let i = 0; i < ANALYSIS_POLLS && !visit.signal.aborted; i++) {
    await new Promise(resolve => setTimeout(resolve, ANALYSIS_POLL_MS));
    if (!visit.signal.aborted && (await api("/api/analyses?job=analysis&limit=1")).items.length) {
      visit.reload();
      return;
    }
  }
  if (!visit.signal.aborted) button.textContent = "Still running: reload later";
}

// Levels 2 to 4 and the trace: the percentile slider, choosing a filter (a row or a grid cell), the grid's
// controls, and the first selection.
async function bindLevels(state, chosen) {
  const { influence } = state;
  const slider = document.getElementById("percentile");
  const draw = () => {
    document.getElementById("percentile-value").textContent = slider.value;
    document.getElementById("influence-layers").innerHTML = influence.layers
      .map(l => influenceRows(l, Number(slider.value))).join("");
  };
  slider.addEventListener("input", draw);
  draw();
  for (const id of ["influence-layers", "grid-body"]) {
    document.getElementById(id).addEventListener("click", e => {
      const button = e.target.closest("[data-select-filter]");
      if (!button) return;
      selectFilter(state, button.dataset.layer, Number(button.dataset.filter), null)
        .then(() => document.getElementById("selected").scrollIntoView());
    });
  }
  for (const [id, key] of [["grid-layer", "gridLayer"], ["grid-order", "order"]]) {
    document.getElementById(id).addEventListener("change", e => {
      state[key] = e.target.value;
      drawGrid(state);
    });
  }
  document.getElementById("by-cluster").addEventListener("change", e => {
    state.byCluster = e.target.checked;
    drawGrid(state);
  });
  drawGrid(state);
  // Default selection: the most influential filter of the last layer, at its strongest activation.
  const lastLayer = influence.layers[influence.layers.length - 1];
  const pick = chosen || { layer: lastLayer.name, filter: lastLayer.ranking[0], step: null };
  await selectFilter(state, pick.layer, pick.filter, pick.step);
}
