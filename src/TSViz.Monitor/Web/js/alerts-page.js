// The live alerts list (#/): newest first, refreshed every 2 seconds, filtered by machine and status.
import { api } from "./api.js";
import { report } from "./errors.js";
import { esc, fmt, when } from "./format.js";

const REFRESH_MS = 2000;

export async function alertsPage(visit, { machine, status }) {
  document.title = "Alerts - TSViz Monitor";
  visit.main.innerHTML = `<h2>Alerts</h2><p class="muted">Newest first; updates every 2 seconds.</p>
    <form id="alert-filters" class="filters"><label>Machine <input id="filter-machine" type="text" size="12"
      value="${esc(machine)}" placeholder="all"></label>
    <label>Status <select id="filter-status">${statusOptions(status)}</select></label>
    <button type="submit">Show</button></form>
    <table><caption class="muted" style="text-align:left">Alert episodes</caption><thead><tr>
    <th scope="col">Machine</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col">Peak score</th>
    <th scope="col">Dominant channel</th><th scope="col">Explanation check</th><th scope="col">Feedback</th></tr></thead>
    <tbody id="alert-rows"></tbody></table>`;
  document.getElementById("alert-filters").addEventListener("submit", applyFilters);
  document.getElementById("filter-status").addEventListener("change", () => applyFilters());
  const refresh = () => refreshAlerts(machine, status);
  await refresh();
  if (visit.signal.aborted) return;
  const timer = setInterval(() => refresh().catch(e => report(e.message)), REFRESH_MS);
  visit.signal.addEventListener("abort", () => clearInterval(timer));
}

function statusOptions(status) {
  return ["", "open", "closed"]
    .map(v => `<option value="${v}"${v === status ? " selected" : ""}>${v || "all"}</option>`).join("");
}

async function refreshAlerts(machine, status) {
  const filter = new URLSearchParams({ limit: "50" });
  if (machine) filter.set("machine", machine);
  if (status) filter.set("status", status);
  const page = await api(`/api/alerts?${filter}`);
  const rows = document.getElementById("alert-rows");
  if (!rows) return;
  const html = page.items.length === 0
    ? `<tr><td colspan="7" class="muted">${machine || status ? "No alerts match." : "No alerts yet."}</td></tr>`
    : page.items.map(alertRow).join("");
  // Re-render only on a change, and keep the keyboard focus on the alert it was on.
  if (html === rows.dataset.html) return;
  const focused = document.activeElement && document.activeElement.closest("tr[data-alert-id]");
  const id = focused ? focused.dataset.alertId : null;
  rows.innerHTML = html;
  rows.dataset.html = html;
  const again = id && [...rows.querySelectorAll("tr[data-alert-id]")].find(r => r.dataset.alertId === id);
  if (again) again.querySelector("a").focus();
}

function alertRow(a) {
  return `<tr data-alert-id="${esc(a.id)}" data-machine="${esc(a.machine)}" data-channel="${esc(a.dominantChannel)}">
    <td><a href="#/alert/${encodeURIComponent(a.id)}">${esc(a.machine)}</a></td>
    <td class="status-${esc(a.status)}">${esc(a.status)}</td><td>${esc(when(a.since))}</td>
    <td>${fmt(a.peakScore)}</td><td>${esc(a.dominantChannel)}</td><td>${check(a.faithfulness)}</td>
    <td>${esc(a.lastFeedback || "none")}</td></tr>`;
}

// The peak explanation's deletion check: a failed one is flagged, never hidden.
function check(f) {
  if (!f) return `<span class="muted">-</span>`;
  return f.verdict === "passed"
    ? `<span class="check-passed">passed</span>`
    : `<span class="check-failed" title="removing the highlighted points changed the score no more than removing random ones">failed</span>`;
}

// The filters live in the address, so a filtered list can be bookmarked.
function applyFilters(event) {
  if (event) event.preventDefault();
  const next = new URLSearchParams();
  const machine = document.getElementById("filter-machine").value.trim();
  const status = document.getElementById("filter-status").value;
  if (machine) next.set("machine", machine);
  if (status) next.set("status", status);
  location.hash = next.toString() ? `#/?${next}` : "#/";
}
