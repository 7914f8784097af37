// Home page: live figures of the comparison. Receives data only through
// data-* attributes and its own JSON endpoint; never sees a token.
(function () {
  "use strict";
  var root = document.getElementById("compare-root");
  if (!root) return;

  // Expiry countdowns from the exp epoch, corrected by the server's clock.
  var offsetMs = Number(root.dataset.serverNow) * 1000 - Date.now();
  var countdowns = document.querySelectorAll("[data-countdown-exp]");
  function human(seconds) {
    if (seconds <= 0) return "expired";
    if (seconds < 120) return seconds + " s";
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + " min " + (s < 10 ? "0" : "") + s + " s";
  }
  function tick() {
    var now = (Date.now() + offsetMs) / 1000;
    countdowns.forEach(function (el) {
      var left = Math.max(0, Math.floor(Number(el.dataset.countdownExp) - now));
      el.textContent = human(left);
      el.dataset.seconds = String(left);
      el.classList.toggle("expired", left <= 0);
    });
  }
  if (countdowns.length) { tick(); window.setInterval(tick, 1000); }

  // What a script here can read of the cookies: names only, never values.
  var docCookie = document.querySelector("[data-testid=document-cookie]");
  if (docCookie) {
    var names = document.cookie.split(";").map(function (c) { return c.split("=")[0].trim(); })
      .filter(function (n) { return n; });
    docCookie.textContent = names.length ? names.join(", ") + " (no token, no session id)" : "nothing";
  }

  // Per-request costs, measured on the server by replaying this browser's credentials.
  function describe(cost) {
    var text = cost.queries + " DB quer" + (cost.queries === 1 ? "y" : "ies");
    if (cost.writes) text += " (" + cost.writes + " write" + (cost.writes === 1 ? "" : "s") + ")";
    text += ", " + cost.cache_calls + " cache call" + (cost.cache_calls === 1 ? "" : "s");
    if (cost.near_reads) text += " (" + cost.near_reads + " read from this process's copy, no round trip)";
    if (cost.status !== 200) text += " — answered " + cost.status;
    return text;
  }
  var slots = document.querySelectorAll("[data-cost]");
  if (!slots.length) return;
  fetch(root.dataset.costsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
    .then(function (costs) {
      slots.forEach(function (el) {
        var cost = costs[el.dataset.cost];
        if (cost) {
          el.textContent = describe(cost);
          el.dataset.measured = "true";
          el.title = "status " + cost.status + (cost.auth ? ", authenticated as " + cost.auth : "");
        }
      });
    })
    .catch(function () {
      slots.forEach(function (el) { if (!el.dataset.measured) el.textContent = "could not measure"; });
    });
})();
