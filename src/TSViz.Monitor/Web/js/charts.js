// SVG charts drawn as markup strings: scales, line paths, axis end labels, the channel chart and the sparkline.
import { esc, fmt } from "./format.js";
import { viridis } from "./palette.js";

// Point i of n spread over [pad, w - pad].
export function stepScale(n, w, pad) {
  return i => pad + (i * (w - 2 * pad)) / Math.max(1, n - 1);
}

// A value in [lo, hi] upwards over [h - pad, pad] (SVG y grows downwards).
export function valueScale(lo, hi, h, pad) {
  const span = hi - lo || 1;
  return v => h - pad - ((v - lo) / span) * (h - 2 * pad);
}

export function linePath(values, x, y) {
  return values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
}

// The labels at both ends of the horizontal axis.
export function endLabels(w, h, pad, first, last, lastWidth = 40) {
  return `<text x="${pad}" y="${h - 8}">${first}</text><text x="${w - pad - lastWidth}" y="${h - 8}">${last}</text>`;
}

// One channel: the input as a line over bars whose height and colour are the saliency at each step. Options:
// saliency (per step, in [0, 1]), topStep (marked with a dashed line), overlay (a second, dashed series, named by
// overlayTitle), range ([lo, hi], for one scale across charts).
export function channelChart(name, input, options = {}) {
  const { saliency = null, topStep = null, overlay = null, range = null } = options;
  const overlayTitle = options.overlayTitle ?? "adversarial window";
  const w = 760, h = 130, pad = 28, n = input.length;
  const all = overlay ? input.concat(overlay) : input;
  const [lo, hi] = range || [Math.min(...all), Math.max(...all)];
  const x = stepScale(n, w, pad), y = valueScale(lo, hi, h, pad);
  const barW = (w - 2 * pad) / n;
  const bars = (saliency || []).map((s, i) => `<rect data-s="${s}" x="${(x(i) - barW / 2).toFixed(1)}"
      y="${(h - pad - s * (h - 2 * pad)).toFixed(1)}" width="${barW.toFixed(1)}"
      height="${(s * (h - 2 * pad)).toFixed(1)}" fill="${viridis(s)}"
      opacity="0.55"><title>step ${i}: saliency ${fmt(s)}</title></rect>`).join("");
  const peak = topStep !== null && topStep !== undefined
    ? `<line x1="${x(topStep)}" x2="${x(topStep)}" y1="${pad / 2}" y2="${h - pad}" stroke="#1b1b1b"
      stroke-dasharray="3 3"/><text x="${x(topStep) + 4}" y="${pad / 2 + 8}">top step ${topStep}</text>`
    : "";
  const second = overlay
    ? `<path d="${linePath(overlay, x, y)}" fill="none" stroke="#b8410b" stroke-width="1.5"
      stroke-dasharray="6 3"><title>${esc(overlayTitle)}</title></path>`
    : "";
  const max = saliency ? `<span class="muted">max saliency ${fmt(Math.max(...saliency))}</span>` : "";
  const label = saliency ? "input with saliency per step" : `solid line and ${esc(overlayTitle)}`;
  return `<figure class="channel" data-channel="${esc(name)}">
    <figcaption><strong>${esc(name)}</strong> ${max}</figcaption>
    <svg role="img" aria-label="${esc(name)}: ${label}" viewBox="0 0 ${w} ${h}" width="100%">
      ${bars}<path d="${linePath(input, x, y)}" fill="none" stroke="#1b1b1b" stroke-width="1.5"/>${second}${peak}
      ${endLabels(w, h, pad, "step 0", `step ${n - 1}`)}
    </svg></figure>`;
}

// A small line without axes; `mark` (an index, or null) gets a dot.
export function sparkline(values, w, h, mark) {
  const lo = Math.min(...values), hi = Math.max(...values);
  const x = stepScale(values.length, w, 1), y = valueScale(lo, hi, h, 2);
  const dot = mark !== null && mark !== undefined
    ? `<circle cx="${x(mark).toFixed(1)}" cy="${y(values[mark]).toFixed(1)}" r="2.5" fill="#1b1b1b"/>`
    : "";
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-hidden="true">`
    + `<path d="${linePath(values, x, y)}" fill="none" stroke="#1b1b1b" stroke-width="1"/>${dot}</svg>`;
}
