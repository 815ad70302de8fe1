// Text for the page: HTML escaping, numbers and times.

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ENTITIES[c]);
}

export function fmt(x, digits = 3) {
  return x === null || x === undefined ? "-" : Number(x).toFixed(digits);
}

export function when(t) {
  return t ? new Date(t).toLocaleString() : "-";
}

export function argmax(values) {
  return values.reduce((best, v, i) => v > values[best] ? i : best, 0);
}
