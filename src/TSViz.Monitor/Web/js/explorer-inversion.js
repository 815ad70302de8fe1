// Inverse optimisation (Eq. 24-25): what the model takes for an anomaly (target 1) or for normal (target 0), from
// random starts; the start that came closest is drawn per channel, and every start's score trajectory.
import { api } from "./api.js";
import { channelChart, endLabels, linePath, stepScale, valueScale } from "./charts.js";
import { esc, fmt } from "./format.js";
import { categoryColour } from "./palette.js";

export async function drawInversion(state, target) {
  const ticket = ++state.inversionTicket;
  const body = document.getElementById("inversion-body");
  body.innerHTML = `<p class="muted">Optimising the input (1000 steps)...</p>`;
  let result;
  try {
    result = await api(`/api/model/inversion?target=${encodeURIComponent(target)}`);
  } catch (e) {
    if (ticket === state.inversionTicket) {
      body.innerHTML = `<p class="muted">The inverse optimisation failed: ${esc(e.message)}</p>`;
    }
    throw e;
  }
  if (!document.body.contains(body) || ticket !== state.inversionTicket) return;
  const distance = s => Math.abs(s.scoreEnd - result.target);
  const best = result.starts.reduce((a, b) => distance(b) < distance(a) ? b : a);
  const values = best.optimised.flat().concat(best.initial.flat());
  const range = [Math.min(...values), Math.max(...values)];
  const charts = state.model.channels.map((c, k) => channelChart(c, best.optimised[k], {
    overlay: best.initial[k], overlayTitle: "random start", range,
  })).join("");
  const scores = result.starts
    .map((s, i) => `start ${i + 1} ${fmt(s.scoreStart)} &rarr; <strong>${fmt(s.scoreEnd, 4)}</strong>`).join("; ");
  body.innerHTML = `<div data-target="${result.target}" data-score-end="${best.scoreEnd}" id="inversion-result">
    <p>From random starts (N(0, 0.25)), ${result.steps} gradient steps of alpha ${result.alpha} on the input
    (Eq. 24-25) move the score towards ${result.target}: ${scores}. Below: the start that came closest, in model
    input space (standardised per channel; one scale for all channels); solid = the optimised input, dashed = where
    it started.</p>
    ${charts}
    ${trajectoryChart(result)}</div>`;
}

// Every start's score after every `trajectoryEvery` steps, on [0, 1].
function trajectoryChart(result) {
  const w = 760, h = 120, pad = 28, y = valueScale(0, 1, h, pad);
  const paths = result.starts.map((s, i) => {
    const x = stepScale(s.trajectory.length, w, pad);
    const clamped = s.trajectory.map(v => Math.max(0, Math.min(1, v)));
    const title = `start ${i + 1}: ${fmt(s.scoreStart)} to ${fmt(s.scoreEnd)}`;
    return `<path d="${linePath(clamped, x, y)}" fill="none" stroke="${categoryColour(i)}" stroke-width="1.5"
      stroke-dasharray="${i ? "5 3" : ""}"><title>${title}</title></path>`;
  }).join("");
  const caption = `Score after every ${result.trajectoryEvery} steps, each start`;
  return `<figure class="trajectory"><figcaption>${caption}</figcaption>
    <svg role="img" aria-label="score trajectories of ${result.starts.length} starts" viewBox="0 0 ${w} ${h}"
      width="100%">${paths}
    ${endLabels(w, h, pad, "step 0", `step ${result.steps}`, 60)}<text x="2" y="${pad}">1.0</text>
    <text x="2" y="${h - pad}">0.0</text></svg></figure>`;
}
