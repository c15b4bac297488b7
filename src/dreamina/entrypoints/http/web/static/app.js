// The only script of the pages (CSP: script-src 'self'): move focus to an error message so that keyboard and
// screen-reader users land on it, and make the error page's "Go back" link work without an inline handler.
document.addEventListener("DOMContentLoaded", () => {
  const alert = document.querySelector("[role=alert]");
  if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
  const back = document.querySelector("[data-back]");
  if (back) { back.addEventListener("click", (e) => { e.preventDefault(); history.back(); }); }
});
