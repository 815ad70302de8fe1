// Who is signed in. The credential (an API key or an OpenID Connect token) is kept for this browser tab only
// (sessionStorage) and sent by api() alone, as an Authorization header. The identity is GET /api/whoami's answer:
// name, role, method, authentication; the app sets it after each sign-in and clears it on sign-out.
import { esc } from "./format.js";

const CREDENTIAL = "tsviz.credential";
const RANKS = ["viewer", "operator", "engineer", "admin"];
let me = null;

export function credential() {
  return sessionStorage.getItem(CREDENTIAL);
}

export function saveCredential(value) {
  sessionStorage.setItem(CREDENTIAL, value);
}

export function forgetCredential() {
  sessionStorage.removeItem(CREDENTIAL);
}

export function setIdentity(identity) {
  me = identity;
}

export function identity() {
  return me;
}

export function roleName() {
  return me && me.role || "without a role";
}

export function may(role) {
  return me !== null && RANKS.indexOf(me.role) >= RANKS.indexOf(role);
}

// A control the role may not use is disabled, and says why next to it.
export function needs(role) {
  return may(role) ? "" : ` disabled aria-describedby="needs-${role}"`;
}

export function needsNote(role) {
  return may(role) ? ""
    : ` <span class="muted" id="needs-${role}">(needs the ${role} role; you are ${esc(roleName())})</span>`;
}
