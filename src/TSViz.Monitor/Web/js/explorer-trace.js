// The selected filter and recursive highlighting: the filter's own input saliency (Eq. 11-13), its activation per
// step (each step a control: click, or arrow keys then Enter), and, level by level back to the input, the
// activations and input points that produced the traced one (its receptive field; through max-pooling only the
// maxima).
import { api } from "./api.js";
import { channelChart, endLabels, linePath, stepScale, valueScale } from "./charts.js";
import { report } from "./errors.js";
import { argmax, esc, fmt } from "./format.js";
import { viridis } from "./palette.js";

// Selects layer/filter and traces it at `step` (null: at its strongest activation).
export async function selectFilter(state, layerName, filter, step) {
  const ticket = ++state.ticket;
  const { influence, model, windowId, visit } = state;
  const layer = influence.layers.find(l => l.name === layerName);
  if (!layer || !(filter >= 0 && filter < layer.activations.length)) {
    report(`No filter ${layerName}/${filter} in this model.`);
    return;
  }
  const activation = layer.activations[filter];
  const t = step === null || step === undefined || step >= activation.length ? argmax(activation) : step;
  state.selected = { layer: layerName, filter, step: t };
  const query = `layer=${encodeURIComponent(layerName)}&filter=${filter}&step=${t}`;
  const trace = await api(`/api/windows/${encodeURIComponent(windowId)}/trace?${query}`);
  // Only the newest choice on the page still shown draws (a slower, older reply is dropped).
  if (visit.signal.aborted || ticket !== state.ticket) return;
  const saliency = trace.filterSaliency, top = Math.max(...saliency.flat()) || 1;
  const charts = model.channels.map((c, k) => channelChart(c, influence.modelInput[k], {
    saliency: saliency[k].map(v => v / top),
  })).join("");
  document.getElementById("selected-body").innerHTML = `<p><strong>${esc(layerName)} filter ${filter}</strong>:
    influence ${fmt(layer.influence[filter], 4)} (${fmt(layer.scaled[filter], 2)} of the layer's top). Its own input
    saliency (Eq. 11-13): which points of the window drive this filter.</p>
    ${charts}`;
  drawTrace(state, trace, activation);
}

function drawTrace(state, trace, activation) {
  const { model, influence } = state;
  let html = stepChart(trace, activation);
  for (const level of trace.levels) {
    if (level.level === "input") {
      const charts = model.channels
        .map((c, k) => traceInputChart(c, influence.modelInput[k], level.points.filter(p => p.row === k))).join("");
      html += `<h3>Input: ${level.points.length} points</h3><p class="legend">Model input (standardised). Large
        circles: the points that produced the activation (darker = larger gradient).</p>
        ${charts}`;
    } else {
      html += traceLayerGrid(level);
    }
  }
  document.getElementById("trace-body").innerHTML = html;
  bindSteps(state, trace, activation.length);
}

// The traced filter's activation per step, as bars; the traced step is the one tab stop.
function stepChart(trace, activation) {
  const w = 760, h = 110, pad = 28, n = activation.length;
  const lo = Math.min(0, ...activation), hi = Math.max(...activation);
  const x = i => pad + (i + 0.5) * (w - 2 * pad) / n, y = valueScale(lo, hi, h, pad), bw = (w - 2 * pad) / n;
  const steps = activation.map((v, i) => {
    const traced = i === trace.step;
    return `<rect class="step${traced ? " chosen" : ""}" data-step="${i}" tabindex="${traced ? 0 : -1}" role="button"
      aria-label="step ${i}: activation ${fmt(v)}${traced ? " (traced)" : ""}" x="${(x(i) - bw / 2).toFixed(1)}"
      y="${Math.min(y(v), y(0)).toFixed(1)}" width="${(bw * 0.9).toFixed(1)}"
      height="${Math.max(1, Math.abs(y(v) - y(0))).toFixed(1)}"
      fill="${traced ? "#D55E00" : "#3b528b"}"><title>step ${i}: ${fmt(v)}</title></rect>`;
  }).join("");
  // The trace's target is in data- attributes, for the browser tests.
  return `<div data-layer="${esc(trace.layer)}" data-filter="${trace.filter}" data-step="${trace.step}"
    id="trace-target">
    <p>Activation ${fmt(trace.activation)} of <strong>${esc(trace.layer)} filter ${trace.filter}</strong> at step
    ${trace.step}. Choose another step (click, or arrow keys then Enter); the points below are the ones that produced
    it: its receptive field, through max-pooling only the maxima.</p>
    <svg id="trace-steps" viewBox="0 0 ${w} ${h}" width="100%" role="group"
      aria-label="${esc(trace.layer)} filter ${trace.filter} activation per step">${steps}
    <line x1="${pad}" x2="${w - pad}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#888"/>
    ${endLabels(w, h, pad, "step 0", `step ${n - 1}`)}</svg></div>`;
}

function bindSteps(state, trace, n) {
  const svg = document.getElementById("trace-steps");
  const go = step => selectFilter(state, trace.layer, trace.filter, step).then(() => {
    const rect = document.querySelector(`#trace-steps rect[data-step="${step}"]`);
    if (rect) rect.focus();
  });
  svg.addEventListener("click", e => {
    const rect = e.target.closest("rect[data-step]");
    if (rect) go(Number(rect.dataset.step));
  });
  svg.addEventListener("keydown", e => {
    const rect = e.target.closest("rect[data-step]");
    if (!rect) return;
    const i = Number(rect.dataset.step);
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      go(i);
    }
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      const to = Math.max(0, Math.min(n - 1, i + (e.key === "ArrowRight" ? 1 : -1)));
      const next = svg.querySelector(`rect[data-step="${to}"]`);
      rect.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  });
}

// A hidden layer's activations that produced the traced one: a filter-by-step grid, darker = larger gradient.
function traceLayerGrid(level) {
  const rows = [...new Set(level.points.map(p => p.row))].sort((a, b) => a - b);
  // Cells 4 to 14 units wide, so a layer fits in about 700; filter labels in the first 60.
  const cw = Math.max(4, Math.min(14, 700 / level.length)), ch = 7;
  const w = 60 + level.length * cw, h = rows.length * ch + 4;
  const traceTitle = p => `filter ${p.row}, step ${p.step}: ${fmt(p.weight, 2)}`;
  const cells = level.points.map(p => `<rect class="traced" data-row="${p.row}" data-step="${p.step}"
    x="${(60 + p.step * cw).toFixed(1)}" y="${2 + rows.indexOf(p.row) * ch}" width="${(cw - 1).toFixed(1)}"
    height="${ch - 1}" fill="${viridis(1 - p.weight)}"><title>${traceTitle(p)}</title></rect>`).join("");
  const labels = rows.map((r, i) => `<text x="0" y="${2 + i * ch + ch - 1}" font-size="7">f${r}</text>`).join("");
  const count = level.points.length;
  return `<figure class="trace-level" data-level="${esc(level.level)}" data-points="${count}"><figcaption>
    <strong>${esc(level.level)}</strong>: ${count} activations in ${rows.length} of ${level.rows} filters
    (steps 0-${level.length - 1}; darker = larger gradient)</figcaption>
    <svg role="img" aria-label="${esc(level.level)}: ${count} activations that produced the traced one"
      viewBox="0 0 ${w} ${h}" width="${Math.min(760, w)}">
    <rect x="60" y="0" width="${level.length * cw}" height="${h}" fill="#f1f1f1"/>${labels}${cells}</svg></figure>`;
}

// One input channel with the points that produced the traced activation circled (larger and darker = larger
// gradient).
function traceInputChart(name, values, points) {
  const w = 760, h = 110, pad = 28, n = values.length;
  const x = stepScale(n, w, pad), y = valueScale(Math.min(...values), Math.max(...values), h, pad);
  const dots = points.map(p => `<circle class="highlight" data-step="${p.step}" cx="${x(p.step).toFixed(1)}"
    cy="${y(values[p.step]).toFixed(1)}" r="${(3 + 4 * p.weight).toFixed(1)}" fill="${viridis(1 - p.weight)}"
    stroke="#1b1b1b"><title>step ${p.step}: ${fmt(p.weight, 2)}</title></circle>`).join("");
  return `<figure class="trace-input" data-channel="${esc(name)}" data-highlighted="${points.length}"><figcaption>
    <strong>${esc(name)}</strong> <span class="muted">${points.length} points</span></figcaption>
    <svg role="img" aria-label="${esc(name)}: ${points.length} input points produced the traced activation"
      viewBox="0 0 ${w} ${h}" width="100%">
    <path d="${linePath(values, x, y)}" fill="none" stroke="#888" stroke-width="1.2"/>${dots}
    ${endLabels(w, h, pad, "step 0", `step ${n - 1}`)}</svg></figure>`;
}
