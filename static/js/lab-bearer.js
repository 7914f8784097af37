// Bearer playground: a token pair held in this closure only (never
// localStorage, sessionStorage or cookies), every request and answer logged.
(function () {
  "use strict";
  var root = document.getElementById("bearer-lab");
  if (!root) return;
  var GRACE = parseInt(root.dataset.reuseGrace, 10) || 0;
  var pair = null;          // {access, refresh}: in memory only
  var previous = null;      // the refresh token rotated out by the last refresh
  var rotatedAt = null;     // when it was rotated out (ms)
  var log = document.getElementById("bearer-log");
  var HEADERS_OF_INTEREST = ["content-type", "cache-control", "www-authenticate", "retry-after"];

  function field(name) { return document.querySelector("[data-field=" + name + "]"); }

  function short(token) {
    return typeof token === "string" && token.length > 24 ? token.slice(0, 12) + "…" + token.slice(-8) : token;
  }

  function shorten(value) {
    if (!value || typeof value !== "object") return value;
    var copy = {};
    Object.keys(value).forEach(function (k) {
      if (k === "password") copy[k] = "(not shown)";
      else copy[k] = (k === "access" || k === "refresh" || k === "token") ? short(value[k]) : value[k];
    });
    return copy;
  }

  // base64url JSON of a JWT's first two parts; no signature check (see the page).
  function decode(token) {
    try {
      return token.split(".").slice(0, 2).map(function (part) {
        var b64 = part.replace(/-/g, "+").replace(/_/g, "/");
        while (b64.length % 4) b64 += "=";
        var bytes = Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); });
        return JSON.parse(new TextDecoder().decode(bytes));
      });
    } catch (e) {
      return null;
    }
  }

  function addEntry(request, response) {
    var item = document.createElement("li");
    item.className = "http-entry " + (response.status < 400 ? "ok" : "bad");
    item.dataset.op = request.op;
    item.dataset.status = String(response.status);
    item.dataset.code = (response.body && response.body.code) || "";
    var req = document.createElement("pre");
    req.textContent = request.method + " " + request.path + "\n" +
      Object.keys(request.headers).map(function (h) { return h + ": " + request.headers[h]; }).join("\n") +
      (request.body ? "\n\n" + JSON.stringify(shorten(request.body), null, 2) : "");
    var res = document.createElement("pre");
    res.textContent = response.status + " " + response.statusText + "\n" +
      response.headers.join("\n") +
      (response.body !== null ? "\n\n" + JSON.stringify(shorten(response.body), null, 2) : "");
    var title = document.createElement("strong");
    title.textContent = request.label;
    item.appendChild(title);
    item.appendChild(req);
    item.appendChild(res);
    log.insertBefore(item, log.firstChild);
  }

  function call(op, label, method, path, token, body) {
    var headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    var shown = {};
    Object.keys(headers).forEach(function (h) {
      shown[h] = h === "Authorization" ? "Bearer " + short(token) : headers[h];
    });
    // credentials: "omit": no cookie travels, the header alone authenticates.
    return fetch(path, {
      method: method, headers: headers, credentials: "omit",
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      var interesting = HEADERS_OF_INTEREST.filter(function (h) { return response.headers.get(h); })
        .map(function (h) { return h + ": " + response.headers.get(h); });
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = text; }
        var answer = { status: response.status, statusText: response.statusText, headers: interesting, body: parsed };
        addEntry({ op: op, label: label, method: method, path: path, headers: shown, body: body }, answer);
        return answer;
      });
    });
  }

  function renderToken(name, token) {
    var target = field(name + "-decoded");
    if (!target) return;
    var parts = token ? decode(token) : null;
    target.textContent = parts ? JSON.stringify({ header: parts[0], claims: parts[1] }, null, 2) : "none";
  }

  function expOf(token) {
    var parts = token ? decode(token) : null;
    return parts && typeof parts[1].exp === "number" ? parts[1].exp * 1000 : null;
  }

  function tick() {
    ["access", "refresh"].forEach(function (name) {
      var exp = pair ? expOf(pair[name]) : null;
      var el = field(name + "-exp");
      if (exp === null) { el.textContent = ""; return; }
      var left = Math.round((exp - Date.now()) / 1000);
      el.textContent = left > 0 ? "expires in " + left + " s" : "expired";
    });
    var grace = field("grace");
    if (previous && rotatedAt !== null && GRACE > 0) {
      var graceLeft = Math.ceil((rotatedAt + GRACE * 1000 - Date.now()) / 1000);
      grace.hidden = false;
      grace.textContent = graceLeft > 0
        ? "Grace period: a replay of the previous refresh token is still accepted for " + graceLeft + " s."
        : "Grace period over: a replay now counts as reuse and ends the login.";
    } else {
      grace.hidden = true;
    }
    field("previous-state").textContent = previous ? "held (" + short(previous) + ")" : "none yet: refresh first";
  }

  function setPair(next) {
    pair = next;
    renderToken("access", pair && pair.access);
    renderToken("refresh", pair && pair.refresh);
    root.querySelectorAll("button[data-op]").forEach(function (b) {
      b.disabled = !pair || (b.dataset.op === "replay" && !previous);
    });
    tick();
  }

  document.getElementById("bearer-obtain").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var creds = { username: form.elements.username.value, password: form.elements.password.value };
    // The log shows the request without the password.
    call("obtain", "Obtain a pair", "POST", root.dataset.obtainUrl, null, creds).then(function (answer) {
      if (answer.status === 200) { previous = null; rotatedAt = null; setPair(answer.body); }
    });
  });

  var ops = {
    me: function () { return call("me", "Call the API", "GET", root.dataset.meUrl, pair.access); },
    refresh: function () {
      var presented = pair.refresh;
      return call("refresh", "Refresh", "POST", root.dataset.refreshUrl, null, { refresh: presented })
        .then(function (answer) {
          if (answer.status === 200) {
            previous = presented; rotatedAt = Date.now(); setPair(answer.body);
          }
        });
    },
    "verify-access": function () {
      return call("verify-access", "Verify the access token", "POST", root.dataset.verifyUrl, null, { token: pair.access });
    },
    "verify-refresh": function () {
      return call("verify-refresh", "Verify the refresh token", "POST", root.dataset.verifyUrl, null, { token: pair.refresh });
    },
    revoke: function () {
      return call("revoke", "Revoke this login", "POST", root.dataset.revokeUrl, pair.access, { refresh: pair.refresh });
    },
    replay: function () {
      return call("replay", "Replay the previous refresh token", "POST", root.dataset.refreshUrl, null, { refresh: previous })
        .then(function (answer) {
          if (answer.status === 200) {
            // Within the grace period: the same login goes on with the new pair.
            setPair(answer.body);
            return;
          }
          // Reuse detected: show that the whole login ended, the current pair included.
          return call("after-reuse-me", "The current access token, after the reuse", "GET", root.dataset.meUrl, pair.access)
            .then(function () {
              return call("after-reuse-refresh", "The current refresh token, after the reuse", "POST",
                root.dataset.refreshUrl, null, { refresh: pair.refresh });
            });
        });
    },
  };

  root.querySelectorAll("button[data-op]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (pair && ops[button.dataset.op]) ops[button.dataset.op]();
    });
  });
  window.setInterval(tick, 1000);
  setPair(null);
})();
