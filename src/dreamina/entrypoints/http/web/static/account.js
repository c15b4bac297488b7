// The mailed links carry their token in the URL fragment (#token=...), which browsers never send to a server.
// Copy it into the page's form, drop it from the address bar and history, and put the focus on the button:
// nothing is submitted until the person presses it.
document.addEventListener("DOMContentLoaded", () => {
  const field = document.querySelector("#token-form input[name=token]");
  const found = /(?:^|&)token=([A-Za-z0-9_-]+)/.exec(location.hash.slice(1));
  if (!field || !found) return;
  field.value = found[1];
  history.replaceState(null, "", location.pathname + location.search);
  const button = document.querySelector("#token-form button[type=submit]");
  if (button) button.focus();
});
