// The monitor's HTTP API: the credential as a bearer header, sign-in on 401, waiting as told on 429, and the
// problem details' text in the error of any other failure. State-changing calls send JSON, which a plain HTML form
// cannot (the monitor's CSRF guard relies on that).
import { credential } from "./session.js";
import { showSignIn } from "./sign-in.js";

const MAX_RETRIES = 5;

export function withCredential(options = {}) {
  const value = credential();
  return value ? { ...options, headers: { ...options.headers, Authorization: `Bearer ${value}` } } : options;
}

export async function api(path, options, attempt = 0) {
  const response = await fetch(path, withCredential(options));
  if (response.status === 401) {
    showSignIn("Your sign-in was not accepted or has expired; sign in again.");
    throw new Error(`${path}: 401 sign-in needed`);
  }
  // 429: the on-demand explanations are at their limit (Monitor:Interactive); wait as told, then ask again.
  if (response.status === 429 && attempt < MAX_RETRIES) {
    const seconds = Number(response.headers.get("Retry-After")) || 1;
    await new Promise(resolve => setTimeout(resolve, seconds * 1000));
    return api(path, options, attempt + 1);
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      // not JSON: the status text stays
    }
    throw new Error(`${path}: ${response.status} ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

export function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// Who am I: null when the monitor does not accept the credential (or there is none) and a sign-in is needed.
export async function whoami() {
  const response = await fetch("/api/whoami", withCredential());
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`/api/whoami: ${response.status}`);
  return response.json();
}
