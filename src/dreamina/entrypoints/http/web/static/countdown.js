// Progressive enhancement (CSP: script-src 'self'): a <time datetime=... data-countdown> followed by a
// [data-countdown-text] element gets a live countdown to its moment; without this script the page shows days left.
(() => {
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const render = (ms) => {
    if (ms <= 0) return "the grace period has ended";
    const s = Math.floor(ms / 1000);
    const days = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600);
    const minutes = Math.floor((s % 3600) / 60), seconds = s % 60;
    return `${plural(days, "day")}, ${plural(hours, "hour")}, ${plural(minutes, "minute")}, ${plural(seconds, "second")} left`;
  };
  const start = () => {
    const pairs = [];
    for (const time of document.querySelectorAll("time[data-countdown]")) {
      const at = Date.parse(time.getAttribute("datetime"));
      const text = time.parentElement.querySelector("[data-countdown-text]");
      if (!Number.isNaN(at) && text) pairs.push([at, text]);
    }
    if (!pairs.length) return;
    const tick = () => { for (const [at, text] of pairs) text.textContent = render(at - Date.now()); };
    tick();
    setInterval(tick, 1000);
  };
  document.addEventListener("DOMContentLoaded", start);
})();
