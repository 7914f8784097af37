// XSS and CSRF lab pages: load the "injected script" on demand, and run the
// cross-site attack: start a run, open the attacker page on the other origin,
// poll what this instance observed and show which defence stopped each try.
(function () {
  "use strict";
  var runButton = document.getElementById("run-injected");
  if (runButton) {
    runButton.addEventListener("click", function () {
      // Inserted like an attacker's <script src>, from this origin (the CSP allows only 'self').
      var script = document.createElement("script");
      script.src = runButton.dataset.src + "?run=" + Date.now();
      document.body.appendChild(script);
    });
  }

  var lab = document.getElementById("csrf-lab");
  var start = document.getElementById("csrf-start");
  if (!lab || !start) return;
  var link = document.getElementById("csrf-attacker-link");
  var report = document.getElementById("csrf-report");
  var victim = document.getElementById("csrf-victim");
  var errorBox = document.getElementById("csrf-error");
  var STOPPED = { samesite: "SameSite", csrf: "CSRF token check", both: "SameSite and the CSRF check",
    cors: "CORS (no preflight permission)", none: "NOTHING", other: "other" };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function render(body) {
    var tbody = report.querySelector("tbody");
    tbody.textContent = "";
    body.attacks.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.attack = a.name;
      tr.dataset.state = a.state;
      tr.dataset.stoppedBy = a.stopped_by;
      cell(tr, a.method + " " + a.path + " — " + a.how);
      var arrived = a.request ? (a.request.cookies.length ? a.request.cookies.join(", ") : "no cookies")
        : (a.preflight ? "only the preflight (no cookies)" : "…");
      cell(tr, arrived);
      cell(tr, a.request ? String(a.request.status) + (a.request.code ? " " + a.request.code : "")
        : (a.preflight ? "request never sent" : "…"));
      var verdict = cell(tr, a.state === "pending" ? "waiting…" : STOPPED[a.stopped_by] + ": " + a.explanation,
        a.state === "succeeded" ? "verdict verdict-accepted" : (a.state === "refused" ? "verdict verdict-refused" : ""));
      verdict.dataset.field = "verdict";
      tbody.appendChild(tr);
    });
    report.hidden = false;
    var v = body.victim;
    var still = [];
    if (v.session_before) still.push("session " + (v.session_now ? "still logged in" : "LOGGED OUT"));
    if (v.jwt_before) still.push("JWT cookie " + (v.jwt_now ? "still logged in" : "LOGGED OUT"));
    still.push("profile " + (v.profile_unchanged ? "unchanged" : "CHANGED"));
    victim.textContent = "You, afterwards: " + still.join(", ") + ".";
    victim.dataset.intact = String((!v.session_before || v.session_now) && (!v.jwt_before || v.jwt_now) && v.profile_unchanged);
    victim.dataset.complete = String(body.complete);
    victim.hidden = false;
  }

  function poll(url, until) {
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { errorBox.textContent = body.detail || ("Error " + r.status); errorBox.hidden = false; return; }
        render(body);
        if (!body.complete && Date.now() < until) window.setTimeout(function () { poll(url, until); }, 1000);
      });
    }, function () {});
  }

  start.addEventListener("click", function () {
    errorBox.hidden = true;
    fetch(lab.dataset.runsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: "{}",
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { errorBox.textContent = body.detail || ("Error " + r.status); errorBox.hidden = false; return; }
        link.href = body.attacker_url;
        link.hidden = false;
        lab.dataset.runId = body.run_id;
        window.open(body.attacker_url, "_blank", "noopener");
        poll(body.report_url, Date.now() + 120 * 1000);
      });
    });
  });
})();
