// Drift (#/drift): every machine's drift state against its reference, refreshed every 5 seconds; one machine
// (#/drift?machine=line1/m2) with every compared distribution drawn as bars, the reference's and the last rolling
// window's side by side, and its drift state changes from the history.
import { api } from "./api.js";
import { report } from "./errors.js";
import { esc, fmt, when } from "./format.js";

const REFRESH_MS = 5000;
const KINDS = ["input", "score", "explanation"];

export async function driftPage(visit, { machine }) {
  document.title = machine ? `Drift of ${machine} - TSViz Monitor` : "Drift - TSViz Monitor";
  const draw = machine ? () => drawMachine(machine) : drawAll;
  await draw();
  if (visit.signal.aborted) return;
  const timer = setInterval(() => draw().catch(e => report(e.message)), REFRESH_MS);
  visit.signal.addEventListener("abort", () => clearInterval(timer));
}

async function drawAll() {
  const machines = await api("/api/drift");
  const main = document.getElementById("main");
  const rows = machines.length === 0
    ? `<tr><td colspan="6" class="muted">No machine compared yet.</td></tr>`
    : machines.map(m => `<tr data-machine="${esc(m.machine)}" data-state="${esc(m.state)}">
        <td><a href="#/drift?machine=${encodeURIComponent(m.machine)}">${esc(m.machine)}</a></td>
        <td class="drift-${esc(m.state)}">${esc(m.state)}</td>
        ${KINDS.map(k => kindCell(m, k)).join("")}<td>${esc(m.summary)}</td></tr>`).join("");
  const html = `<h2>Drift</h2><p class="muted">Each machine's last rolling window of normal windows against its
    reference (built by the nightly drift job): inputs, scores and the reasons the model gives. Updates every 5 seconds.</p>
    <table><caption class="muted" style="text-align:left">Drift per machine: divergence / null level</caption><thead><tr>
    <th scope="col">Machine</th><th scope="col">State</th><th scope="col">Input</th><th scope="col">Score</th>
    <th scope="col">Explanation</th><th scope="col">What moved</th></tr></thead><tbody id="drift-rows">${rows}</tbody></table>`;
  if (main.dataset.html !== html) {
    main.innerHTML = html;
    main.dataset.html = html;
  }
}

function kindCell(message, kind) {
  const k = (message.kinds || []).find(x => x.kind === kind);
  if (!k) return `<td class="muted">-</td>`;
  return `<td class="drift-${esc(k.state)}" data-kind="${kind}" title="${esc(k.moved.description)}">
    ${fmt(k.value)} / ${fmt(k.threshold)}${k.state === "drift" ? " <strong>drift</strong>" : ""}</td>`;
}

async function drawMachine(machine) {
  const main = document.getElementById("main");
  let detail;
  try {
    detail = await api(`/api/drift/machine?machine=${encodeURIComponent(machine)}`);
  } catch (e) {
    main.innerHTML = `<h2>Drift of ${esc(machine)}</h2><p>${esc(e.message)}</p><p><a href="#/drift">All machines</a></p>`;
    main.dataset.html = "";
    return;
  }
  const events = await api(`/api/drift/events?machine=${encodeURIComponent(machine)}&limit=20`);
  const d = detail.drift;
  const ref = d.reference;
  const reference = ref
    ? `Reference: ${ref.windows} normal windows from ${esc(when(ref.from))} to ${esc(when(ref.to))}, rolling ${ref.rolling} windows.`
    : "No reference yet: the nightly drift job builds it.";
  const charts = detail.distributions.map(distribution).join("");
  const history = events.length === 0
    ? `<li class="muted">No drift state changes kept.</li>`
    : events.map(e => `<li>${esc(when(e.at))}: ${esc(e.summary)}</li>`).join("");
  const html = `<h2>Drift of ${esc(machine)}</h2><p><a href="#/drift">All machines</a></p>
    <p id="drift-state" class="drift-${esc(d.state)}" data-state="${esc(d.state)}"><strong>${esc(d.state)}</strong>: ${esc(d.summary)}</p>
    <p class="muted">${reference}</p>
    <section id="drift-distributions" aria-label="Reference and current distributions">
    <h3>Distributions, reference and current side by side</h3>
    <p class="muted"><span class="swatch ref"></span> reference <span class="swatch cur"></span> last ${ref ? ref.rolling : ""} windows</p>
    ${charts || `<p class="muted">Drawn once the rolling window is full.</p>`}</section>
    <section><h3>Drift state changes</h3><ul id="drift-events">${history}</ul></section>`;
  if (main.dataset.html !== html) {
    main.innerHTML = html;
    main.dataset.html = html;
  }
}

// One distribution as paired bars per bin: the reference's (grey) and the current's (orange).
function distribution(x) {
  const n = x.reference.length, w = 360, h = 120, pad = 22;
  const slot = (w - 2 * pad) / n, bar = Math.max(1, slot / 2 - 1);
  const top = Math.max(...x.reference, ...x.current, 1e-9);
  const y = v => (v / top) * (h - 2 * pad);
  const labels = binLabels(x);
  const bars = x.reference.map((r, i) => {
    const c = x.current[i];
    const x0 = pad + i * slot;
    return `<g><rect class="ref" x="${x0.toFixed(1)}" y="${(h - pad - y(r)).toFixed(1)}" width="${bar.toFixed(1)}" height="${y(r).toFixed(1)}"
        fill="#8c8c8c"><title>${esc(labels[i])}: reference ${fmt(r)}</title></rect>
      <rect class="cur" x="${(x0 + bar + 1).toFixed(1)}" y="${(h - pad - y(c)).toFixed(1)}" width="${bar.toFixed(1)}" height="${y(c).toFixed(1)}"
        fill="#d9730d"><title>${esc(labels[i])}: current ${fmt(c)}</title></rect></g>`;
  }).join("");
  const name = x.channel ? `${x.component} of ${x.channel}` : x.component;
  return `<figure class="drift-distribution" data-component="${esc(x.component)}" data-channel="${esc(x.channel || "")}">
    <figcaption><strong>${esc(name)}</strong> <span class="muted">(${esc(x.kind)}; divergence ${fmt(x.divergence)} bits)</span></figcaption>
    <svg role="img" aria-label="${esc(name)}: reference and current distributions over ${n} bins" viewBox="0 0 ${w} ${h}" width="${w}">
      ${bars}<text x="${pad}" y="${h - 6}">${esc(labels[0])}</text><text x="${w - pad - 60}" y="${h - 6}">${esc(labels[n - 1])}</text>
    </svg></figure>`;
}

function binLabels(x) {
  if (x.labels && x.labels.length) {
    return x.component === "time" ? x.labels.map(l => `tenth ${l}`) : x.labels;
  }
  const e = x.edges;
  return x.reference.map((_, i) => i === 0 ? `< ${fmt(e[0])}` : i === e.length ? `>= ${fmt(e[e.length - 1])}` : `${fmt(e[i - 1])}-${fmt(e[i])}`);
}
