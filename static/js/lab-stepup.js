// Step-up lab: each side's amr/auth_time, aged, tried on a sensitive action
// and re-authenticated; then what this site and the stateless verifier answer
// to an access token copied before the JWT step-up. The copy stays on the
// server: this script sees claims and answers, never a token.
import { store } from "./jwt-keepalive.js";
import { ApiError, postJson, showError } from "./http.js";

const root = document.getElementById("stepup-lab");
const WORDS = { pwd: "password", otp: "one-time code", hwk: "hardware key", swk: "software key" };

/** Return an amr list for people, as the pages' amr_display filter. */
function amrText(amr) {
  if (!amr || !amr.length) return "not recorded";
  const words = amr.filter((m) => m !== "mfa").map((m) => WORDS[m] || m).join(" + ");
  return amr.includes("mfa") ? `${words} (multi-factor)` : words;
}

function field(scope, name) {
  return scope.querySelector(`[data-field=${name}]`);
}

function verdict(cell, accepted, text) {
  cell.hidden = false;
  cell.textContent = text;
  cell.className = accepted === null ? "verdict verdict-unknown" : accepted ? "verdict verdict-accepted" : "verdict verdict-refused";
  cell.dataset.accepted = accepted === null ? "unknown" : String(accepted);
}

function renderSide(side, held) {
  const card = root.querySelector(`section[data-side=${side}]`);
  if (!card || !held) return;
  field(card, "amr").textContent = amrText(held.amr);
  field(card, "auth_time").textContent = held.auth_time === null ? "(none)" : String(held.auth_time);
  const fresh = field(card, "fresh");
  fresh.dataset.fresh = String(held.fresh);
  fresh.textContent = `${held.fresh ? "yes" : "no"} (${held.age === null ? "?" : held.age} s old)`;
  if (side === "jwt") field(card, "jti").textContent = `jti ${held.jti}…, ${held.expires_in} s until exp`;
}

function renderState(body) {
  renderSide("session", body.session);
  renderSide("jwt", body.jwt);
}

function createCopy() {
  const copy = document.getElementById("stepup-copy");
  let replayUrl = null;
  let expiresAt = null;
  let ticker = null;

  function countdown() {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    const line = field(copy, "countdown");
    line.dataset.secondsLeft = String(left);
    line.textContent =
      left > 0
        ? `The copy expires in ${left} s: until then it proves its old amr and auth_time to any verifier.`
        : "The copy has expired: every verifier refuses it now.";
  }

  function render(body) {
    copy.hidden = false;
    copy.dataset.state = "answered";
    field(copy, "taken").textContent = new Date(body.taken_at * 1000).toLocaleTimeString();
    field(copy, "jti").textContent = body.jti;
    field(copy, "amr").textContent = amrText(body.amr);
    field(copy, "auth_time").textContent = body.auth_time === null ? "(none)" : String(body.auth_time);
    const i = body.instance;
    verdict(
      field(copy, "instance"),
      i.accepted,
      i.accepted
        ? `200 accepted (auth: ${i.auth}); its claims say amr ${amrText(body.amr)}, auth_time ${body.auth_time}` +
            (i.fresh ? ", still fresh" : ", not fresh: a sensitive action asks again")
        : `${i.status} refused${i.code ? ` (${i.code})` : ""}`,
    );
    const v = body.verifier;
    const cell = field(copy, "verifier");
    if (!v.available) {
      verdict(cell, null, `The verifier is not running at ${v.url}: start it with make verifier.`);
    } else if (v.accepted) {
      verdict(cell, true, `200 accepted, amr ${amrText(v.amr)}, auth_time ${v.auth_time}, ${v.expires_in} s until exp`);
      cell.dataset.authTime = String(v.auth_time);
    } else {
      verdict(cell, false, `${v.status} refused${v.code ? ` (${v.code})` : ""}`);
    }
    field(copy, "asked").textContent = `asked at ${new Date(body.asked_at * 1000).toLocaleTimeString()}`;
    replayUrl = body.replay_url;
    expiresAt = typeof body.expires_in === "number" ? Date.now() + body.expires_in * 1000 : null;
    if (ticker) window.clearInterval(ticker);
    if (expiresAt !== null) {
      countdown();
      ticker = window.setInterval(countdown, 1000);
    }
  }

  return {
    render,
    replayUrl: () => replayUrl,
  };
}

function createLab() {
  const errorBox = document.getElementById("stepup-error");
  const copy = createCopy();

  async function ask(url, payload) {
    showError(errorBox, null);
    try {
      return await postJson(url, payload);
    } catch (error) {
      showError(errorBox, error);
      return error;
    }
  }

  function answer(side, accepted, text) {
    verdict(field(root.querySelector(`section[data-side=${side}]`), "answer"), accepted, text);
  }

  async function sensitive(side) {
    const body = await ask(root.dataset.runUrl, { action: "sensitive", side });
    if (body instanceof ApiError) {
      if (body.code !== "reauthentication_required") return;
      showError(errorBox, null);
      const where = body.body.location ? `; a session page redirects to ${body.body.location}` : "";
      answer(side, false, `${body.status} ${body.code}${where}`);
    } else {
      answer(side, true, `${body.detail}`);
    }
  }

  async function run(side, action, extra = {}) {
    const body = await ask(root.dataset.runUrl, { action, side, ...extra });
    if (body instanceof ApiError) return null;
    renderState(body);
    return body;
  }

  async function jwtReauthenticate(password) {
    // First the copy, then the step-up: the copy is the token the browser held before.
    const taken = await ask(root.dataset.runUrl, { action: "copy", side: "jwt" });
    if (taken instanceof ApiError) return;
    const pair = await ask(root.dataset.reauthUrl, { password });
    if (pair instanceof ApiError) return;
    await store(pair);
    answer("jwt", true, "A new pair is in the cookies.");
    await run(undefined, "state");
    const again = await ask(taken.replay_url, {});
    if (!(again instanceof ApiError)) copy.render(again);
  }

  for (const button of root.querySelectorAll("button[data-action]")) {
    const { action, side } = button.dataset;
    button.addEventListener("click", () => (action === "sensitive" ? sensitive(side) : run(side, action)));
  }
  for (const form of root.querySelectorAll("form[data-action=reauthenticate]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const password = form.elements.password.value;
      form.elements.password.value = "";
      if (form.dataset.side === "jwt") {
        await jwtReauthenticate(password);
      } else if (await run("session", "reauthenticate", { password })) {
        answer("session", true, "Upgraded in place: the same login, a new auth_time at once.");
      }
    });
  }
  document.getElementById("stepup-ask-again").addEventListener("click", async () => {
    if (!copy.replayUrl()) return;
    const body = await ask(copy.replayUrl(), {});
    if (!(body instanceof ApiError)) copy.render(body);
  });
}

if (root) createLab();
