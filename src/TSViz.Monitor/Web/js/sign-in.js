// The sign-in dialog: asks for an API key or a token when the monitor answers 401.

export function showSignIn(message) {
  const dialog = document.getElementById("sign-in");
  document.getElementById("sign-in-message").textContent = message;
  if (!dialog.open) dialog.showModal();
}

export function bindSignIn(onCredential) {
  document.getElementById("sign-in-form").addEventListener("submit", event => {
    event.preventDefault();
    const credential = event.target.credential.value.trim();
    if (!credential) return;
    event.target.credential.value = "";
    document.getElementById("sign-in").close();
    onCredential(credential);
  });
}
