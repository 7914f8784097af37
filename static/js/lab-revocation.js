// Revocation lab: asks the server to revoke this browser's credential and
// renders what the site and the stateless verifier answered to the old one.
// The server does every replay; this script never sees a token, only the
// answers (status, code, seconds until exp) and a random lab id.
import { forget } from "./jwt-keepalive.js";
import { loginEnded, postJson, showError } from "./http.js";

const root = document.getElementById("revocation-lab");
const LABELS = {
  session_end: "ending this session",
  jwt_revoke: "revoking this JWT login",
  logout_all: "logging out everywhere",
  password_change: "changing the password",
};
const ENDED_BY = {
  session_end: "ended in this lab",
  jwt_revoke: "revoked in this lab",
  logout_all: "logged out everywhere",
  password_change: "password changed",
};

function field(result, name) {
  return result.querySelector(`[data-field=${name}]`);
}

function verdict(cell, accepted, text) {
  cell.textContent = text;
  cell.className = accepted ? "verdict verdict-accepted" : "verdict verdict-refused";
  cell.dataset.accepted = accepted ? "true" : "false";
}

function instanceText(answer) {
  if (answer.accepted) return `200 accepted (auth: ${answer.auth})`;
  return `${answer.status} refused${answer.code ? ` (${answer.code})` : ""}`;
}

function verifierVerdict(cell, v) {
  if (!v.available) {
    cell.className = "verdict verdict-unknown";
    cell.dataset.accepted = "unknown";
    cell.textContent = `The verifier is not running at ${v.url}: start it with make verifier (make run starts it beside the site).`;
  } else if (v.accepted) {
    verdict(cell, true, `200 accepted, ${v.expires_in} s until exp (it cannot know of the revocation)`);
  } else {
    verdict(cell, false, `${v.status} refused${v.code ? ` (${v.code})` : ""}`);
  }
}

// What this browser is logged in as, from the server: the page renders it,
// each answer updates it.
function loggedIn() {
  return { session: root.dataset.session === "on", jwt: root.dataset.jwt === "on" };
}

function createLab() {
  const result = document.getElementById("lab-result");
  const errorBox = document.getElementById("lab-error");
  let replayUrl = null;
  let expiresAt = null; // epoch ms of the old access token's exp
  let ticker = null;

  function renderCountdown() {
    const line = field(result, "countdown");
    if (expiresAt === null) {
      line.hidden = true;
      return;
    }
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    line.hidden = false;
    line.dataset.secondsLeft = String(left);
    line.textContent =
      left > 0
        ? `The old access token expires in ${left} s: until then any stateless verifier accepts it.`
        : "The old access token has expired: now every verifier refuses it.";
  }

  // The logins that just ended are marked as such on every panel (top cards, navigation).
  function showEnded(body, before) {
    if (!body.now) return;
    for (const kind of ["session", "jwt"]) {
      if (before[kind] && !body.now[kind]) {
        loginEnded(kind, ENDED_BY[body.action] || "ended");
        root.dataset[kind] = "off";
      }
    }
    if (body.jwt) forget(); // the JWT login this browser had was revoked: no refresh to schedule
    const still = [];
    if (body.now.session) still.push("your session is still logged in");
    if (body.now.jwt) still.push("your JWT cookie login is still alive");
    field(result, "untouched").textContent = still.length ? `Untouched: ${still.join("; ")}.` : "";
    const now = field(result, "now");
    now.textContent = still.length ? "" : "This browser is now logged out. Reload the page to log in again.";
  }

  function render(body) {
    result.hidden = false;
    field(result, "action").textContent = LABELS[body.action] || body.action;
    for (const name of ["session", "jwt", "verifier"]) {
      result.querySelector(`[data-row=${name}]`).hidden = !body[name];
    }
    if (body.session) verdict(field(result, "session"), body.session.accepted, instanceText(body.session));
    if (body.jwt) verdict(field(result, "jwt"), body.jwt.accepted, instanceText(body.jwt));
    if (body.verifier) verifierVerdict(field(result, "verifier"), body.verifier);
    expiresAt = typeof body.expires_in === "number" ? Date.now() + body.expires_in * 1000 : null;
    renderCountdown();
    if (ticker) window.clearInterval(ticker);
    if (expiresAt !== null) ticker = window.setInterval(renderCountdown, 1000);
    // What the lab keeps, in the words of what was revoked: a session has no token.
    const kept = field(result, "kept");
    if (typeof body.ttl === "number") {
      kept.textContent = (body.jwt ? kept.dataset.jwt : kept.dataset.session).replace("{ttl}", String(body.ttl));
    }
    field(result, "asked").textContent = `asked at ${new Date(body.asked_at * 1000).toLocaleTimeString()}`;
    if (body.replay_url) replayUrl = body.replay_url;
    result.dataset.labId = body.lab_id;
    result.dataset.state = "answered";
  }

  async function ask(url, payload) {
    showError(errorBox, null);
    try {
      return await postJson(url, payload);
    } catch (error) {
      showError(errorBox, error);
      return null;
    }
  }

  async function run(payload) {
    const before = loggedIn();
    const body = await ask(root.dataset.runUrl, payload);
    if (!body) return;
    for (const button of root.querySelectorAll("button")) button.disabled = true;
    render(body);
    showEnded(body, before);
  }

  for (const button of root.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => run({ action: button.dataset.action }));
  }
  const form = document.getElementById("lab-password-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run({
      action: "password_change",
      old_password: form.elements.old_password.value,
      new_password1: form.elements.new_password1.value,
      new_password2: form.elements.new_password2.value,
    });
  });
  document.getElementById("lab-ask-again").addEventListener("click", async () => {
    if (!replayUrl) return;
    const body = await ask(replayUrl, {});
    if (body) render(body);
  });
}

if (root) createLab();
