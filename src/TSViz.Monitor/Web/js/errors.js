// The page's own error panel (#tsviz-errors): every console error, uncaught exception and failed request is also
// written there, so an operator sees what went wrong and the browser tests can read it.

export function report(message) {
  const pre = document.getElementById("tsviz-errors");
  pre.textContent = pre.hidden ? String(message) : `${pre.textContent}\n${message}`;
  pre.hidden = false;
}

export function installErrorReport() {
  const consoleError = console.error.bind(console);
  console.error = (...args) => {
    report(args.join(" "));
    consoleError(...args);
  };
  window.addEventListener("error", e => report(e.message));
  window.addEventListener("unhandledrejection", e => report(e.reason && e.reason.message || e.reason));
}
