// Home page: live figures of the comparison. Receives data only through
// data-* attributes and its own JSON endpoint; never sees a token.
import { apiJson } from "./http.js";

const root = document.getElementById("compare-root");

// Expiry countdowns from the exp epoch, corrected by the server's clock.
function human(seconds) {
  if (seconds <= 0) return "expired";
  if (seconds < 120) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m} min ${s < 10 ? "0" : ""}${s} s`;
}

function startCountdowns() {
  const offsetMs = Number(root.dataset.serverNow) * 1000 - Date.now();
  const countdowns = [...document.querySelectorAll("[data-countdown-exp]")];
  const tick = () => {
    const now = (Date.now() + offsetMs) / 1000;
    for (const el of countdowns) {
      const left = Math.max(0, Math.floor(Number(el.dataset.countdownExp) - now));
      el.textContent = human(left);
      el.dataset.seconds = String(left);
      el.classList.toggle("expired", left <= 0);
    }
  };
  if (countdowns.length) {
    tick();
    window.setInterval(tick, 1000);
  }
}

// What a script here can read of the cookies: names only, never values.
function showScriptCookies() {
  const docCookie = document.querySelector("[data-testid=document-cookie]");
  if (!docCookie) return;
  const names = document.cookie
    .split(";")
    .map((c) => c.split("=")[0].trim())
    .filter(Boolean);
  docCookie.textContent = names.length ? `${names.join(", ")} (no token, no session id)` : "nothing";
}

// Per-request costs, measured on the server by replaying this browser's credentials.
function describe(cost) {
  const plural = (n, one, many) => (n === 1 ? one : many);
  let text = `${cost.queries} DB quer${plural(cost.queries, "y", "ies")}`;
  if (cost.writes) text += ` (${cost.writes} write${plural(cost.writes, "", "s")})`;
  text += `, ${cost.cache_calls} cache call${plural(cost.cache_calls, "", "s")}`;
  if (cost.near_reads) text += ` (${cost.near_reads} read from this process's copy, no round trip)`;
  if (cost.status !== 200) text += ` — answered ${cost.status}`;
  return text;
}

async function showCosts() {
  const slots = document.querySelectorAll("[data-cost]");
  if (!slots.length) return;
  try {
    const costs = await apiJson(root.dataset.costsUrl);
    for (const el of slots) {
      const cost = costs[el.dataset.cost];
      if (!cost) continue;
      el.textContent = describe(cost);
      el.dataset.measured = "true";
      el.title = `status ${cost.status}${cost.auth ? `, authenticated as ${cost.auth}` : ""}`;
    }
  } catch {
    for (const el of slots) if (!el.dataset.measured) el.textContent = "could not measure";
  }
}

if (root) {
  startCountdowns();
  showScriptCookies();
  showCosts();
}
