// TSViz Monitor operator view, the entry module: plain JavaScript modules, no build step (index.html loads this one;
// the rest are under js/). It wires the header, the sign-in dialog and the router to the pages.
import { installErrorReport, report } from "./js/errors.js";
import { whoami } from "./js/api.js";
import { alertPage } from "./js/alert-page.js";
import { alertsPage } from "./js/alerts-page.js";
import { driftPage } from "./js/drift-page.js";
import { explorerPage } from "./js/explorer-page.js";
import { bindSignOut, clearIdentity, showIdentity, showModelVersion } from "./js/header.js";
import { createRouter } from "./js/router.js";
import { credential, forgetCredential, saveCredential, setIdentity } from "./js/session.js";
import { bindSignIn, showSignIn } from "./js/sign-in.js";

installErrorReport();
const main = document.getElementById("main");
const router = createRouter(main, { alerts: alertsPage, alert: alertPage, model: explorerPage, drift: driftPage });

// Without a (valid) credential the monitor answers 401 and the sign-in dialog asks for one.
async function start() {
  const me = await whoami();
  if (me === null) {
    showSignIn(credential()
      ? "That key or token was not accepted." : "This monitor needs an API key or a sign-in token.");
    return;
  }
  setIdentity(me);
  showIdentity(me);
  router.route();
}

function signIn(value) {
  saveCredential(value);
  start().catch(e => report(e.message));
}

function signOut() {
  forgetCredential();
  setIdentity(null);
  router.leave();
  main.innerHTML = "";
  clearIdentity();
  showSignIn("Signed out.");
}

window.addEventListener("hashchange", () => router.route());
bindSignIn(signIn);
bindSignOut(signOut);
showModelVersion();
start().catch(e => report(e.message));
