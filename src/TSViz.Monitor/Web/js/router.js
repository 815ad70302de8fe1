// Hash routes: #/ (alerts; the filters in the query, #/?machine=m2&status=open, so a filtered list can be
// bookmarked), #/alert/<id>, #/drift[?machine=<id>], #/model[/<window id>[/<layer>/<filter>/<step>]] (ids URI-encoded).
import { report } from "./errors.js";

export function parseRoute(hash) {
  const alert = hash.match(/^#\/alert\/(.+)$/);
  if (alert) return { page: "alert", id: decodeURIComponent(alert[1]) };
  const model = hash.match(/^#\/model(?:\/([^/]+)(?:\/([^/]+)\/(\d+)(?:\/(\d+))?)?)?$/);
  if (model) {
    const chosen = model[2]
      ? { layer: decodeURIComponent(model[2]), filter: Number(model[3]), step: model[4] ? Number(model[4]) : null }
      : null;
    return { page: "model", windowId: model[1] ? decodeURIComponent(model[1]) : null, chosen };
  }
  if (/^#\/drift(\?|$)/.test(hash)) {
    const params = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
    return { page: "drift", machine: params.get("machine") || "" };
  }
  const query = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
  return { page: "alerts", machine: query.get("machine") || "", status: query.get("status") || "" };
}

// Every navigation is a new visit: `signal` aborts when the user moves on, so a page stops its timers and a reply
// that arrives later does not draw into the next page; `reload` draws the current address again.
// `pages` maps a route's page name to `async (visit, route) => ...`.
export function createRouter(main, pages) {
  let current = null;

  function leave() {
    if (current) current.abort();
    current = null;
  }

  function route() {
    leave();
    current = new AbortController();
    const target = parseRoute(location.hash || "#/");
    const visit = { main, signal: current.signal, reload: route };
    pages[target.page](visit, target).catch(e => report(e.message));
  }

  return { route, leave };
}
