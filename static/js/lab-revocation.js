// Revocation lab: asks the server to revoke this browser's credential and
// renders what the site and the stateless verifier answered to the old one.
// The server does every replay; this script never sees a token, only the
// answers (status, code, seconds until exp) and a random lab id.
(function () {
  "use strict";
  var root = document.getElementById("revocation-lab");
  if (!root) return;
  var result = document.getElementById("lab-result");
  var errorBox = document.getElementById("lab-error");
  var askAgain = document.getElementById("lab-ask-again");
  var replayUrl = null;
  var expiresAt = null;   // epoch ms of the old access token's exp (server clock offset applied)
  var ticker = null;

  var LABELS = {
    session_end: "ending this session",
    jwt_revoke: "revoking this JWT login",
    logout_all: "logging out everywhere",
    password_change: "changing the password",
  };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function field(name) { return result.querySelector("[data-field=" + name + "]"); }

  function verdict(cell, accepted, text) {
    cell.textContent = text;
    cell.className = accepted ? "verdict verdict-accepted" : "verdict verdict-refused";
    cell.dataset.accepted = accepted ? "true" : "false";
  }

  function instanceText(answer) {
    if (answer.accepted) return "200 accepted (auth: " + answer.auth + ")";
    return answer.status + " refused" + (answer.code ? " (" + answer.code + ")" : "");
  }

  function renderCountdown() {
    var line = field("countdown");
    if (expiresAt === null) { line.hidden = true; return; }
    var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    line.hidden = false;
    line.dataset.secondsLeft = String(left);
    line.textContent = left > 0
      ? "The old access token expires in " + left + " s: until then any stateless verifier accepts it."
      : "The old access token has expired: now every verifier refuses it.";
  }

  function render(body) {
    result.hidden = false;
    field("action").textContent = LABELS[body.action] || body.action;
    ["session", "jwt", "verifier"].forEach(function (name) {
      result.querySelector("[data-row=" + name + "]").hidden = !body[name];
    });
    if (body.session) verdict(field("session"), body.session.accepted, instanceText(body.session));
    if (body.jwt) verdict(field("jwt"), body.jwt.accepted, instanceText(body.jwt));
    if (body.verifier) {
      var v = body.verifier;
      var cell = field("verifier");
      if (!v.available) {
        verdict(cell, false, "");
        cell.className = "verdict verdict-unknown";
        cell.dataset.accepted = "unknown";
        cell.textContent = "The verifier is not running at " + v.url +
          ": start it with make verifier (make run starts it beside the site).";
      } else if (v.accepted) {
        verdict(cell, true, "200 accepted, " + v.expires_in + " s until exp (it cannot know of the revocation)");
      } else {
        verdict(cell, false, v.status + " refused" + (v.code ? " (" + v.code + ")" : ""));
      }
    }
    expiresAt = typeof body.expires_in === "number" ? Date.now() + body.expires_in * 1000 : null;
    renderCountdown();
    if (ticker) window.clearInterval(ticker);
    if (expiresAt !== null) ticker = window.setInterval(renderCountdown, 1000);
    var untouched = [];
    if (!body.session && body.action === "jwt_revoke") untouched.push("the session (if any) is untouched");
    if (!body.jwt && body.action === "session_end") untouched.push("the JWT cookie login (if any) is untouched");
    field("untouched").textContent = untouched.join("; ");
    field("asked").textContent = "asked at " + new Date(body.asked_at * 1000).toLocaleTimeString();
    if (body.now) {
      field("now").textContent = "This browser now: session " + (body.now.session ? "still logged in" : "logged out") +
        ", JWT cookie " + (body.now.jwt ? "still logged in" : "logged out") + ". Reload to log in again.";
    }
    if (body.replay_url) replayUrl = body.replay_url;
    result.dataset.labId = body.lab_id;
    result.dataset.state = "answered";
  }

  function showError(body, status) {
    var text = (body && body.detail) || ("Error " + status);
    if (body && body.errors) {
      text += " " + Object.keys(body.errors).map(function (k) {
        return body.errors[k].map(function (e) { return e.message || e; }).join(" ");
      }).join(" ");
    }
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function post(url, payload) {
    errorBox.hidden = true;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { showError(body, response.status); return null; }
        return body;
      });
    }, function () { showError({ detail: "Network error." }, 0); return null; });
  }

  function run(payload) {
    return post(root.dataset.runUrl, payload).then(function (body) {
      if (!body) return;
      if (body.jwt && window.authdemoJwt) window.authdemoJwt.forget();
      root.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      render(body);
    });
  }

  root.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { run({ action: button.dataset.action }); });
  });
  var form = document.getElementById("lab-password-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run({
      action: "password_change",
      old_password: form.elements.old_password.value,
      new_password1: form.elements.new_password1.value,
      new_password2: form.elements.new_password2.value,
    });
  });
  askAgain.addEventListener("click", function () {
    if (!replayUrl) return;
    post(replayUrl).then(function (body) { if (body) render(body); });
  });
})();
