// Level 2 of the explorer: one layer's filters at or above a percentile of its influence for this window, most
// influential first, each a button (choose it to see its saliency and trace it) with its activation as a sparkline.
import { sparkline } from "./charts.js";
import { esc, fmt } from "./format.js";
import { viridis } from "./palette.js";

export function influenceRows(layer, percentile) {
  const sorted = [...layer.scaled].sort((a, b) => a - b);
  const cut = sorted[Math.min(sorted.length - 1, Math.floor((percentile / 100) * sorted.length))];
  const shown = layer.ranking.filter(f => layer.scaled[f] >= cut);
  return `<figure class="layer" data-layer="${esc(layer.name)}" data-shown="${shown.length}"><figcaption>
    <strong>${esc(layer.name)}</strong> <span class="muted">${shown.length} of ${layer.scaled.length} filters</span>
    </figcaption><div class="filters">${shown.map(f => filterRow(layer, f)).join("")}</div></figure>`;
}

function filterRow(layer, f) {
  const scaled = layer.scaled[f];
  return `<button type="button" class="filter-row" data-select-filter data-layer="${esc(layer.name)}"
    data-filter="${f}" title="${esc(layer.name)} filter ${f}: scaled influence ${fmt(scaled, 2)}; choose to trace it">
    <span class="label">filter ${f}</span><span class="track"><span class="fill"
      style="width:${(100 * scaled).toFixed(1)}%; background:${viridis(scaled)}"></span></span>
    <span class="num">${fmt(layer.influence[f], 4)}</span>${sparkline(layer.activations[f], 180, 26, null)}</button>`;
}
