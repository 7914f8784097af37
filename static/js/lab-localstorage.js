// ANTI-PATTERN PAGE ONLY: keeps a bearer access token in localStorage, where
// every script of this origin can read it. The site never does this; this
// page exists to show the XSS lab's injected script finding the token.
(function () {
  "use strict";
  var KEY = "antipattern_access_token";
  var root = document.getElementById("ls-lab");
  if (!root) return;
  var refresh = null;   // kept in memory, only to revoke the demo login afterwards
  var state = document.getElementById("ls-state");

  function show() {
    var token = window.localStorage.getItem(KEY);
    state.textContent = token
      ? "localStorage[\"" + KEY + "\"] holds an access token (" + token.length + " characters)."
      : "localStorage holds no token of this page.";
    state.dataset.stored = token ? "true" : "false";
  }

  document.getElementById("ls-login").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    fetch(root.dataset.obtainUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.elements.username.value, password: form.elements.password.value }),
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { state.textContent = body.detail || ("Error " + r.status); return; }
        window.localStorage.setItem(KEY, body.access);   // the anti-pattern
        refresh = body.refresh;
        show();
      });
    });
  });

  document.getElementById("ls-forget").addEventListener("click", function () {
    var access = window.localStorage.getItem(KEY);
    window.localStorage.removeItem(KEY);
    if (access && refresh) {
      fetch(root.dataset.revokeUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", "Authorization": "Bearer " + access },
        body: JSON.stringify({ refresh: refresh }),
      });
    }
    refresh = null;
    show();
  });
  show();
})();
