// The pruning view, from the nightly analysis: clusters and dead filters per layer, the dataset influence of every
// filter (Eq. 28), and faithfulness (the loss after zeroing one filter).
import { valueScale } from "./charts.js";
import { esc, fmt, when } from "./format.js";

export function pruningSection(analysis) {
  const summary = analysis.summary;
  const layers = summary.layers.map(l => `<tr><td>${esc(l.layer)}</td><td>${l.filters}</td><td>${l.k}</td>
    <td>${fmt(l.silhouette, 2)}</td><td>${l.clusterSizes.join(", ")}</td><td>${l.deadFilters.length}</td>
    <td>${l.pruningCandidates}</td></tr>`).join("");
  const faithfulness = summary.faithfulness.map(r => `<tr><td>${esc(r.layer)}</td><td>${esc(r.which)}</td>
    <td>${r.filter ?? "-"}</td><td>${fmt(r.loss, 4)}</td>
    <td>${r.percentChange === null || r.percentChange === undefined ? "-" : fmt(r.percentChange, 1) + " %"}</td>
    </tr>`).join("");
  return `<p>From ${analysis.windows} stored windows, ${esc(when(analysis.at))}.</p>
    <table><thead><tr><th scope="col">Layer</th><th scope="col">Filters</th><th scope="col">Clusters (k)</th>
    <th scope="col">Silhouette</th><th scope="col">Cluster sizes</th><th scope="col">Never active</th>
    <th scope="col">Pruning candidates</th></tr></thead><tbody>
    ${layers}</tbody></table>
    <p class="legend">Dataset influence per filter (Eq. 28): bar = mean, whisker = min to max; sorted by mean.</p>
    ${summary.layers.map(rangeChart).join("")}
    <h3>Faithfulness: loss after zeroing one filter</h3><table><thead><tr><th scope="col">Layer</th>
    <th scope="col">Zeroed</th><th scope="col">Filter</th><th scope="col">Loss</th><th scope="col">Change</th>
    </tr></thead><tbody>
    ${faithfulness}</tbody></table>`;
}

// One layer's dataset influence per filter, sorted by the mean: bar = mean, whisker = min to max.
function rangeChart(layer) {
  const order = layer.meanInfluence.map((m, f) => f).sort((a, b) => layer.meanInfluence[b] - layer.meanInfluence[a]);
  const w = 760, h = 110, pad = 24, step = (w - 2 * pad) / order.length;
  const y = valueScale(0, Math.max(...layer.maxInfluence) || 1, h, pad);
  const marks = order.map((f, k) => {
    const x = pad + k * step, mid = (x + step / 2).toFixed(1), mean = layer.meanInfluence[f];
    return `<g data-filter="${f}"><rect x="${(x + step * 0.15).toFixed(1)}" y="${y(mean).toFixed(1)}"
      width="${(step * 0.7).toFixed(1)}" height="${(h - pad - y(mean)).toFixed(1)}" fill="#3b528b"/>
      <line x1="${mid}" x2="${mid}" y1="${y(layer.maxInfluence[f]).toFixed(1)}"
        y2="${y(layer.minInfluence[f]).toFixed(1)}" stroke="#1b1b1b"/>
      <title>${rangeTitle(layer, f)}</title></g>`;
  }).join("");
  const name = esc(layer.layer);
  return `<figure class="dataset-influence" data-layer="${name}"><figcaption><strong>${name}</strong></figcaption>
    <svg role="img" aria-label="${name}: dataset influence per filter" viewBox="0 0 ${w} ${h}"
      width="100%">${marks}</svg>
    </figure>`;
}

function rangeTitle(layer, f) {
  return `filter ${f}: mean ${fmt(layer.meanInfluence[f], 4)}, min ${fmt(layer.minInfluence[f], 4)}, `
    + `max ${fmt(layer.maxInfluence[f], 4)}`;
}
