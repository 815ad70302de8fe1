// Colours readable with colour-vision deficiencies; every colour-coded quantity is also drawn as a height or written
// as a number.

// Viridis, 9 stops, for magnitudes in [0, 1].
const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];

export function viridis(v) {
  return VIRIDIS[Math.max(0, Math.min(VIRIDIS.length - 1, Math.round(v * (VIRIDIS.length - 1))))];
}

// Okabe-Ito: a categorical palette distinguishable with colour-vision deficiencies; cluster numbers are also written.
const CATEGORICAL = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"];

export function categoryColour(c) {
  return CATEGORICAL[c % CATEGORICAL.length];
}

// Past eight clusters the colours repeat with another border style (solid, dashed, dotted), and every cell names its
// cluster.
export function categoryBorder(c) {
  return ["solid", "dashed", "dotted"][Math.floor(c / CATEGORICAL.length) % 3];
}
