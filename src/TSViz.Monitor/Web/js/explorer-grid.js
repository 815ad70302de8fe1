// Levels 3 and 4 of the explorer: one layer's filters on a grid, ordered by influence or by nightly cluster, each
// cell coloured by its cluster (colour and border style; the number is written too), and the silhouette curve that
// chose the number of clusters.
import { endLabels, sparkline, stepScale, valueScale } from "./charts.js";
import { esc, fmt } from "./format.js";
import { categoryBorder, categoryColour } from "./palette.js";

export function drawGrid(state) {
  const { influence, analysis, gridLayer, byCluster, order } = state;
  const layer = influence.layers.find(l => l.name === gridLayer);
  const summary = analysis ? analysis.summary.layers.find(l => l.layer === gridLayer) : null;
  const labels = summary && summary.labels ? summary.labels : null;
  const coloured = byCluster && labels;
  const filters = [...layer.ranking];
  if (order === "cluster" && labels) filters.sort((a, b) => labels[a] - labels[b] || layer.scaled[b] - layer.scaled[a]);
  const cells = filters.map(f => gridCell(layer, f, labels ? labels[f] : null, coloured)).join("");
  document.getElementById("grid-body").innerHTML = `<div class="grid-wrap"><div class="cells"
    data-layer="${esc(layer.name)}" data-coloured="${coloured ? "yes" : "no"}">${cells}</div>
    <div class="grid-side">${gridSide(summary, coloured)}</div></div>`;
}

function clusterStyle(c) {
  return `border:3px ${categoryBorder(c)} ${categoryColour(c)}; background:${categoryColour(c)}33`;
}

function gridCell(layer, f, c, coloured) {
  const style = coloured ? ` style="${clusterStyle(c)}"` : "";
  const cluster = c !== null ? ` data-cluster="${c}"` : "";
  const label = `f${f}${coloured ? ` c${c}` : ""}: ${esc(layer.name)} filter ${f}${c !== null ? `, cluster ${c}` : ""}`
    + `, scaled influence ${fmt(layer.scaled[f], 2)}`;
  return `<button type="button" class="cell" data-select-filter data-layer="${esc(layer.name)}"
    data-filter="${f}"${cluster}${style} aria-label="${label}"><span class="cell-label">f${f}${
    coloured ? ` <strong>c${c}</strong>` : ""}</span>${sparkline(layer.activations[f], 110, 34, null)}</button>`;
}

function gridSide(summary, coloured) {
  if (summary && summary.silhouetteByK) {
    return silhouetteChart(summary) + (coloured ? clusterList(summary) : "");
  }
  return summary
    ? `<p class="muted">This analysis predates per-filter clusters; run the analysis again.</p>`
    : `<p class="muted">No nightly clusters of this model yet.</p>`;
}

function clusterList(summary) {
  const items = summary.clusterSizes.map((n, c) => clusterItem(c, n, summary.representatives[c])).join("");
  return `<ul class="clusters" tabindex="0" aria-label="clusters of ${esc(summary.layer)}">${items}</ul>`;
}

function clusterItem(c, size, representative) {
  const swatch = `<span class="swatch" style="${clusterStyle(c)}"></span>`;
  const filters = `${size} filter${size === 1 ? "" : "s"}`;
  return `<li>${swatch}cluster ${c}: ${filters}, representative filter ${representative}</li>`;
}

function silhouetteChart(summary) {
  const values = summary.silhouetteByK, w = 300, h = 150, pad = 30;
  const finite = values.filter(v => v !== null);
  if (!finite.length) return `<p class="muted">No silhouette scores.</p>`;
  const lo = Math.min(0, ...finite), hi = Math.max(...finite), n = values.length;
  const x = stepScale(n, w, pad), y = valueScale(lo, hi, h, pad);
  // A gap where the score is undefined (null): the line starts again after it.
  const path = values.map((v, i) => v === null ? ""
    : `${i && values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const chosen = summary.k - 2;
  const mark = chosen >= 0 && chosen < n && values[chosen] !== null
    ? `<circle cx="${x(chosen).toFixed(1)}" cy="${y(values[chosen]).toFixed(1)}" r="4" fill="#D55E00"/>
      <text x="${(x(chosen) + 6).toFixed(1)}" y="${(y(values[chosen]) - 6).toFixed(1)}">k = ${summary.k}</text>`
    : "";
  return `<figure class="silhouette" data-layer="${esc(summary.layer)}" data-points="${finite.length}"
    data-k="${summary.k}"><figcaption>Silhouette score by number of clusters k (chosen: the highest)</figcaption>
    <svg role="img" aria-label="silhouette score for k = 2 to ${n + 1}; highest at k = ${summary.k}"
      viewBox="0 0 ${w} ${h}" width="${w}">
    <path d="${path}" fill="none" stroke="#0072B2" stroke-width="1.5"/>${mark}
    ${endLabels(w, h, pad, "k = 2", `k = ${n + 1}`, 30)}<text x="2" y="${pad - 8}">${fmt(hi, 2)}</text></svg></figure>`;
}
