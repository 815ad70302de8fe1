// The page header: the deployed model's version, who is signed in, and the sign-out button.
import { api } from "./api.js";

export function showModelVersion() {
  api("/health").then(h => {
    document.getElementById("model").textContent = `model ${h.model}`;
  }).catch(() => {});
}

export function showIdentity(me) {
  document.getElementById("who").textContent = me.authentication === "off"
    ? `${me.name} (${me.role}; authentication off, loopback only)`
    : `Signed in as ${me.name} (${me.role || "no role"}, ${me.method === "api_key" ? "API key" : "token"})`;
  document.getElementById("sign-out").hidden = me.authentication === "off";
}

export function clearIdentity() {
  document.getElementById("who").textContent = "";
  document.getElementById("sign-out").hidden = true;
}

export function bindSignOut(onSignOut) {
  document.getElementById("sign-out").addEventListener("click", onSignOut);
}
