// One alert explained (#/alert/<id>): the peak window with its saliency, the channel contributions, the filters that
// mattered, robustness (an FGSM step, on demand), similar earlier alerts and the operators' feedback.
import { api, postJson } from "./api.js";
import { channelChart, sparkline } from "./charts.js";
import { report } from "./errors.js";
import { argmax, esc, fmt, when } from "./format.js";
import { identity, may, needs, needsNote, roleName } from "./session.js";

export async function alertPage(visit, { id }) {
  document.title = "Alert - TSViz Monitor";
  visit.main.innerHTML = `<p class="muted">Loading alert...</p>`;
  const enc = encodeURIComponent(id);
  const [detail, similar, adversarial, counterfactual, pattern] = await Promise.all([
    api(`/api/alerts/${enc}`),
    api(`/api/alerts/${enc}/similar?limit=5`),
    may("engineer") ? api(`/api/alerts/${enc}/adversarial`).catch(() => null) : null,
    api(`/api/alerts/${enc}/counterfactual`).catch(() => null), // 404 until computed (milliseconds after the peak)
    api(`/api/alerts/${enc}/pattern`).catch(() => null), // 404 without a history pattern yet
  ]);
  if (visit.signal.aborted) return;
  const peak = detail.peakWindow, e = peak && peak.explanation;
  const channels = e ? Object.keys(e.channelContributions) : [];
  visit.main.innerHTML = summary(detail.alert, peak)
    + faithfulnessSection(detail.alert.faithfulness, e)
    + counterfactualSection(counterfactual)
    + patternSection(pattern)
    + (e ? explanationSections(peak, e, channels) : missingExplanation())
    + robustnessSection(adversarial, e, channels)
    + similarSection(similar)
    + feedbackSection(detail.feedback);
  if (e && peak.hasDetail) fillActivations(visit, peak.id);
  document.getElementById("feedback-form").addEventListener("submit", async event => {
    event.preventDefault();
    const kind = event.submitter ? event.submitter.value : "acknowledge";
    await postJson(`/api/alerts/${enc}/feedback`, { kind, comment: event.target.comment.value || null })
      .catch(err => alert(err.message));
    visit.reload();
  });
  visit.main.focus();
}

function summary(a, peak) {
  const explore = peak && peak.hasDetail
    ? `<p><a href="#/model/${encodeURIComponent(peak.id)}">Explore this window in the network explorer</a></p>`
    : "";
  return `<p><a href="#/">&larr; All alerts</a></p>
    <h2>${esc(a.machine)}: alert <span class="status-${esc(a.status)}">${esc(a.status)}</span></h2>
    <div class="kv"><span>Since</span><span>${esc(when(a.since))}</span>
    <span>Peak score</span><span>${fmt(a.peakScore)}</span>
    <span>Dominant channel</span><span id="dominant">${esc(a.dominantChannel)}</span>
    <span>Model</span><span>${esc(a.modelVersion)}</span></div>
    ${explore}`;
}

// Does the highlighted evidence carry the score? The deletion check of the peak explanation, in plain words.
function faithfulnessSentence(f, cells) {
  const percent = `${+(100 * f.fraction).toFixed(1)} %`;
  const what = cells ? `the highlighted points (the top ${percent}, ${cells} points)` : `the highlighted points (the top ${percent})`;
  return f.verdict === "passed"
    ? `Removing ${what} drops the score from ${fmt(f.score)} to ${fmt(f.deletionScore)}; removing as many random
      points leaves ${fmt(f.randomScore)}. The highlighted points are what the model used.`
    : `Removing ${what} moves the score from ${fmt(f.score)} to ${fmt(f.deletionScore)}; removing as many random
      points leaves ${fmt(f.randomScore)}. The highlighted points do not explain this score better than random ones:
      read this explanation with care.`;
}

function faithfulnessSection(f, e) {
  if (!f) return "";
  const cells = e && e.faithfulness ? e.faithfulness.cells : null;
  const flag = f.verdict === "passed"
    ? `<p class="check-passed"><strong>Explanation check passed.</strong></p>`
    : `<p class="check-failed" role="alert"><strong>Explanation check failed.</strong></p>`;
  return `<section id="faithfulness"><h2>Does the explanation hold?</h2>${flag}
    <p id="faithfulness-sentence">${esc(faithfulnessSentence(f, cells).replace(/\s+/g, " "))}</p></section>`;
}

// What would have made the peak window normal: the changed values in plain words, a table, and each changed channel
// drawn with the counterfactual over the received values.
function counterfactualSection(doc) {
  if (!doc) return "";
  const cf = doc.counterfactual;
  if (!cf.found) {
    return `<section id="counterfactual"><h2>What would have made it normal?</h2>
      <p id="counterfactual-sentence">${esc(cf.summary)}</p></section>`;
  }
  const rows = cf.changes.map(c => `<tr><td>${esc(c.channel)}</td><td>${esc(when(c.time))}</td><td>${c.step}</td>
    <td>${fmt(c.from, 3)}</td><td>${fmt(c.to, 3)}</td></tr>`).join("");
  const changed = new Set(cf.changes.map(c => c.channel));
  const charts = doc.channels.map((c, k) => changed.has(c)
    ? channelChart(c, doc.received[k], { overlay: doc.window[k], overlayTitle: "counterfactual: the values that score normal" })
    : "").join("");
  return `<section id="counterfactual"><h2>What would have made it normal?</h2>
    <p id="counterfactual-sentence">${esc(cf.summary)}</p>
    <p class="legend">The deployed model scores the changed window ${fmt(cf.scoreAfter)} (received: ${fmt(cf.scoreBefore)};
    the alert closes below ${fmt(cf.closeLevel, 3)}). ${cf.changes.length} of the window's values changed, at most
    ${cf.maxCells} allowed. Solid line: received; dashed: the counterfactual.</p>
    <table><thead><tr><th scope="col">Channel</th><th scope="col">Time</th><th scope="col">Step</th>
    <th scope="col">Received</th><th scope="col">Normal if</th></tr></thead><tbody>${rows}</tbody></table>
    ${charts}</section>`;
}

// Has this kind of fault been seen before: the alert's recurring pattern, what operators said about it, in plain words.
function patternSection(p) {
  if (!p) return "";
  const flag = p.mostlyFalseAlarms
    ? `<p class="check-failed" role="alert"><strong>Operators marked this pattern mostly as false alarms.</strong></p>`
    : "";
  return `<section id="pattern"><h2>Recurring pattern</h2>${flag}
    <p id="pattern-sentence">${esc(p.summary)}</p>
    <p class="legend">Alerts whose explanations are alike (saliency pattern and filter influence), grouped nightly and
    matched live. Pattern ${esc(p.id)}.</p></section>`;
}

function explanationSections(peak, e, channels) {
  const topStep = e.topSteps.length ? e.topSteps[0] : null;
  const charts = channels.map((c, k) => channelChart(c, peak.input[k], {
    saliency: e.saliency[k],
    topStep: topStep && topStep.channel === c ? topStep.step : null,
  })).join("");
  const method = e.saliencyMethod && e.saliencyMethod !== "gradient" ? ` (method: ${esc(e.saliencyMethod)})` : "";
  return `<section id="saliency"><h2>Why: the peak window and where the model looked</h2>
    <p class="legend">Black line: the sensor values. Bars: saliency of each time step${method} (taller and brighter = more
    influence on the score). Dashed line: the single most salient step
    (${esc(topStep ? topStep.channel : "-")}, step ${esc(topStep ? topStep.step : "-")}).</p>
    ${charts}</section>
    <div class="grid"><section id="contributions"><h2>Channel contributions</h2>
    ${channels.map(c => contributionBar(c, e.channelContributions[c])).join("")}
    </section>${filtersSection(peak, e, channels)}</div>`;
}

function contributionBar(channel, share) {
  const percent = (100 * share).toFixed(1);
  return `<div class="bar"><span class="label">${esc(channel)}</span><div class="track"><div class="fill"
    style="width:${percent}%"></div></div><span>${percent} %</span></div>`;
}

function filtersSection(peak, e, channels) {
  const rows = e.topFilters.map(f => `<tr><td>${esc(f.layer)}</td>
    <td><a href="#/model/${encodeURIComponent(peak.id)}/${encodeURIComponent(f.layer)}/${f.index}"
      title="trace it in the network explorer">${f.index}</a></td>
    <td>${fmt(f.influence, 4)}</td><td>${fmt(f.influenceScaled, 2)}</td>
    <td class="activation" data-layer="${esc(f.layer)}" data-filter="${f.index}"><span class="muted">${
      peak.hasDetail ? "..." : "-"}</span></td></tr>`).join("");
  const own = e.filterSaliency || [];
  const legend = own.length
    ? `<p class="legend">Each top filter's own input saliency (which points of the window drive that filter):</p>`
    : "";
  const details = own.map(m => `<details><summary>${esc(m.layer)} filter ${m.filter}</summary>${
    channels.map((c, k) => channelChart(c, peak.input[k], { saliency: m.saliency[k] })).join("")}</details>`).join("");
  return `<section id="filters"><h2>Filters that mattered</h2><table><thead><tr><th scope="col">Layer</th>
    <th scope="col">Filter</th><th scope="col">Influence</th><th scope="col">Scaled</th>
    <th scope="col">Activation over the window</th></tr></thead><tbody>
    ${rows}</tbody></table>
    ${legend}
    ${details}
    </section>`;
}

function missingExplanation() {
  return `<section><p class="muted">The peak window's full explanation is not in the history (retention may have
    removed it).</p></section>`;
}

function robustnessSection(adversarial, e, channels) {
  if (!may("engineer")) {
    return `<section id="robustness"><h2>Robustness</h2><p class="muted">The adversarial window is computed on demand
      and needs the engineer role; you are ${esc(roleName())}.</p></section>`;
  }
  if (!adversarial) return "";
  const smallest = e && e.robustness.smallestFlippingEpsilon
    ? `; the smallest eps that flips it is ${fmt(e.robustness.smallestFlippingEpsilon, 3)}`
    : "";
  const charts = channels.map((c, k) => channelChart(c, adversarial.window[k], {
    overlay: adversarial.adversarialWindow[k],
  })).join("");
  return `<section id="robustness"><h2>Robustness</h2>
    <p>Score ${fmt(adversarial.scoreBefore)} becomes ${fmt(adversarial.scoreAfter)} after an FGSM step of
    eps ${fmt(adversarial.epsilon, 2)}
    (${adversarial.flipped ? "the decision flips" : "the decision holds"})${smallest}.</p>
    <p class="legend">Model input (standardised per channel): solid = original, dashed = adversarial.</p>
    ${charts}</section>`;
}

function similarSection(similar) {
  if (similar.length === 0) {
    return `<section id="similar"><h2>Has this happened before?</h2>`
      + `<p class="muted">No earlier alerts of this model.</p></section>`;
  }
  const rows = similar.map(s => `<tr><td>${fmt(s.similarity, 2)}</td>
    <td><a href="#/alert/${encodeURIComponent(s.alert.id)}">${esc(s.alert.machine)}</a></td>
    <td>${esc(when(s.alert.since))}</td><td>${esc(s.alert.dominantChannel)}</td>
    <td>${esc(s.alert.lastFeedback || "none")}</td></tr>`).join("");
  return `<section id="similar"><h2>Has this happened before?</h2><table><thead><tr><th scope="col">Similarity</th>
    <th scope="col">Machine</th><th scope="col">Since</th><th scope="col">Dominant channel</th>
    <th scope="col">Feedback</th></tr></thead><tbody>
    ${rows}</tbody></table></section>`;
}

function feedbackSection(feedback) {
  const me = identity();
  const given = feedback.map(f => `<li>${esc(f.kind)} by ${esc(f.author)} ${esc(when(f.at))}${
    f.comment ? `: ${esc(f.comment)}` : ""}</li>`).join("") || `<li class="muted">None yet.</li>`;
  const gate = needs("operator");
  return `<section id="feedback"><h2>Feedback</h2>
    <ul>${given}</ul>
    <form id="feedback-form"><p class="muted">Given as ${esc(me ? me.name : "-")}.</p>
    <label>Comment <input type="text" name="comment" size="40"${gate}></label>
    <button type="submit" name="kind" value="acknowledge"${gate}>Acknowledge</button>
    <button type="submit" name="kind" value="confirm"${gate}>Confirm</button>
    <button type="submit" name="kind" value="false_alarm"${gate}>False alarm</button>${needsNote("operator")}</form>
    </section>`;
}

// The top filters' activations, computed on the deployed weights from the stored input.
function fillActivations(visit, windowId) {
  api(`/api/windows/${encodeURIComponent(windowId)}/influence`).then(influence => {
    if (visit.signal.aborted) return;
    for (const cell of document.querySelectorAll("#filters td.activation")) {
      const layer = influence.layers.find(l => l.name === cell.dataset.layer);
      const values = layer && layer.activations[Number(cell.dataset.filter)];
      if (values) {
        cell.innerHTML = `${sparkline(values, 120, 22, argmax(values))} <span class="num">max ${
          fmt(Math.max(...values), 2)}</span>`;
      }
    }
  }).catch(err => report(err.message));
}
