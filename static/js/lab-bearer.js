// Bearer playground: a token pair held in this module only (never
// localStorage, sessionStorage or cookies), every request and answer logged.
// When the server ends the login (revocation, refresh-token reuse) the pair's
// panel stops counting down and says so.
const HEADERS_OF_INTEREST = ["content-type", "cache-control", "www-authenticate", "retry-after"];
// Answers that mean the login itself is over, not only this token.
const ENDED = { token_reused: "refresh-token reuse ended this login", token_revoked: "this login was revoked" };

function short(token) {
  return typeof token === "string" && token.length > 24 ? `${token.slice(0, 12)}…${token.slice(-8)}` : token;
}

function shorten(value) {
  if (!value || typeof value !== "object") return value;
  const copy = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "password") copy[k] = "(not shown)";
    else copy[k] = k === "access" || k === "refresh" || k === "token" ? short(v) : v;
  }
  return copy;
}

// base64url JSON of a JWT's first two parts; no signature check (see the page).
function decode(token) {
  try {
    return token
      .split(".")
      .slice(0, 2)
      .map((part) => {
        let b64 = part.replace(/-/g, "+").replace(/_/g, "/");
        while (b64.length % 4) b64 += "=";
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        return JSON.parse(new TextDecoder().decode(bytes));
      });
  } catch {
    return null;
  }
}

function expOf(token) {
  const parts = token ? decode(token) : null;
  return parts && typeof parts[1].exp === "number" ? parts[1].exp * 1000 : null;
}

function createLab(root) {
  const grace = parseInt(root.dataset.reuseGrace, 10) || 0;
  const log = document.getElementById("bearer-log");
  let pair = null; // {access, refresh}: in memory only
  let previous = null; // the refresh token rotated out by the last refresh
  let rotatedAt = null; // when it was rotated out (ms)
  let ended = ""; // why the server ended this pair's login, once it has

  const field = (name) => root.querySelector(`[data-field=${name}]`);

  function addEntry(request, response) {
    const item = document.createElement("li");
    item.className = `http-entry ${response.status < 400 ? "ok" : "bad"}`;
    item.dataset.op = request.op;
    item.dataset.status = String(response.status);
    item.dataset.code = (response.body && response.body.code) || "";
    const req = document.createElement("pre");
    req.textContent =
      `${request.method} ${request.path}\n` +
      Object.entries(request.headers)
        .map(([h, v]) => `${h}: ${v}`)
        .join("\n") +
      (request.body ? `\n\n${JSON.stringify(shorten(request.body), null, 2)}` : "");
    const res = document.createElement("pre");
    res.textContent =
      `${response.status} ${response.statusText}\n${response.headers.join("\n")}` +
      (response.body !== null ? `\n\n${JSON.stringify(shorten(response.body), null, 2)}` : "");
    const title = document.createElement("strong");
    title.textContent = request.label;
    item.append(title, req, res);
    log.insertBefore(item, log.firstChild);
  }

  async function call(op, label, method, path, token, body) {
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const shown = Object.fromEntries(
      Object.entries(headers).map(([h, v]) => [h, h === "Authorization" ? `Bearer ${short(token)}` : v])
    );
    // credentials: "omit": no cookie travels, the header alone authenticates.
    const response = await fetch(path, {
      method,
      headers,
      credentials: "omit",
      body: body ? JSON.stringify(body) : undefined,
    });
    const interesting = HEADERS_OF_INTEREST.filter((h) => response.headers.get(h)).map(
      (h) => `${h}: ${response.headers.get(h)}`
    );
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    const answer = { status: response.status, statusText: response.statusText, headers: interesting, body: parsed };
    addEntry({ op, label, method, path, headers: shown, body }, answer);
    // A pair whose login the server ended is marked at once, whichever call found out.
    const code = parsed && parsed.code;
    if (pair && response.status === 401 && ENDED[code]) endLogin(ENDED[code]);
    return answer;
  }

  function renderToken(name, token) {
    const target = field(`${name}-decoded`);
    const parts = token ? decode(token) : null;
    target.textContent = parts ? JSON.stringify({ header: parts[0], claims: parts[1] }, null, 2) : "none";
  }

  function tick() {
    for (const name of ["access", "refresh"]) {
      const el = field(`${name}-exp`);
      const exp = pair ? expOf(pair[name]) : null;
      el.dataset.state = ended ? "revoked" : exp === null ? "none" : "live";
      if (exp === null) {
        el.textContent = "";
        continue;
      }
      const left = Math.round((exp - Date.now()) / 1000);
      if (ended) el.textContent = `revoked: ${ended}`;
      else el.textContent = left > 0 ? `expires in ${left} s` : "expired";
    }
    const graceLine = field("grace");
    if (previous && rotatedAt !== null && grace > 0 && !ended) {
      const graceLeft = Math.ceil((rotatedAt + grace * 1000 - Date.now()) / 1000);
      graceLine.hidden = false;
      graceLine.textContent =
        graceLeft > 0
          ? `Grace period: a replay of the previous refresh token is still accepted for ${graceLeft} s.`
          : "Grace period over: a replay now counts as reuse and ends the login.";
    } else {
      graceLine.hidden = true;
    }
    field("previous-state").textContent = previous ? `held (${short(previous)})` : "none yet: refresh first";
  }

  function endLogin(reason) {
    if (ended) return;
    ended = reason;
    root.dataset.login = "revoked";
    tick();
  }

  function setPair(next) {
    pair = next;
    ended = "";
    root.dataset.login = pair ? "live" : "none";
    renderToken("access", pair && pair.access);
    renderToken("refresh", pair && pair.refresh);
    for (const b of root.querySelectorAll("button[data-op]")) {
      b.disabled = !pair || (b.dataset.op === "replay" && !previous);
    }
    tick();
  }

  document.getElementById("bearer-obtain").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const creds = { username: form.elements.username.value, password: form.elements.password.value };
    // The log shows the request without the password.
    const answer = await call("obtain", "Obtain a pair", "POST", root.dataset.obtainUrl, null, creds);
    if (answer.status === 200) {
      previous = null;
      rotatedAt = null;
      setPair(answer.body);
    }
  });

  const ops = {
    me: () => call("me", "Call the API", "GET", root.dataset.meUrl, pair.access),
    async refresh() {
      const presented = pair.refresh;
      const answer = await call("refresh", "Refresh", "POST", root.dataset.refreshUrl, null, { refresh: presented });
      if (answer.status === 200) {
        previous = presented;
        rotatedAt = Date.now();
        setPair(answer.body);
      }
    },
    "verify-access": () =>
      call("verify-access", "Verify the access token", "POST", root.dataset.verifyUrl, null, { token: pair.access }),
    "verify-refresh": () =>
      call("verify-refresh", "Verify the refresh token", "POST", root.dataset.verifyUrl, null, { token: pair.refresh }),
    async revoke() {
      const answer = await call("revoke", "Revoke this login", "POST", root.dataset.revokeUrl, pair.access, {
        refresh: pair.refresh,
      });
      if (answer.status === 204) endLogin("revoked by this page");
    },
    async replay() {
      const answer = await call("replay", "Replay the previous refresh token", "POST", root.dataset.refreshUrl, null, {
        refresh: previous,
      });
      if (answer.status === 200) {
        // Within the grace period: the same login goes on with the new pair.
        setPair(answer.body);
        return;
      }
      // Reuse detected: show that the whole login ended, the current pair included.
      await call("after-reuse-me", "The current access token, after the reuse", "GET", root.dataset.meUrl, pair.access);
      await call("after-reuse-refresh", "The current refresh token, after the reuse", "POST", root.dataset.refreshUrl, null, {
        refresh: pair.refresh,
      });
    },
  };

  for (const button of root.querySelectorAll("button[data-op]")) {
    button.addEventListener("click", () => {
      if (pair && ops[button.dataset.op]) ops[button.dataset.op]();
    });
  }
  window.setInterval(tick, 1000);
  setPair(null);
}

const root = document.getElementById("bearer-lab");
if (root) createLab(root);
