// XSS and CSRF lab pages: load the "injected script" on demand, and run the
// cross-site attack: start a run, open the attacker page on the other origin,
// poll what this instance observed and show which defence stopped each try.
import { apiJson, postJson, showError } from "./http.js";

const STOPPED = {
  samesite: "SameSite",
  csrf: "CSRF token check",
  both: "SameSite and the CSRF check",
  cors: "CORS (no preflight permission)",
  none: "NOTHING",
  other: "other",
};
const POLL_MS = 1000;
const POLL_FOR_MS = 120 * 1000;

const runButton = document.getElementById("run-injected");
if (runButton) {
  runButton.addEventListener("click", () => {
    // Inserted like an attacker's <script src>, from this origin (the CSP allows only 'self').
    const script = document.createElement("script");
    script.type = "module";
    script.src = `${runButton.dataset.src}?run=${Date.now()}`;
    document.body.appendChild(script);
  });
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function attackRow(a) {
  const tr = document.createElement("tr");
  tr.dataset.attack = a.name;
  tr.dataset.state = a.state;
  tr.dataset.stoppedBy = a.stopped_by;
  cell(tr, `${a.method} ${a.path} — ${a.how}`);
  let arrived = a.preflight ? "only the preflight (no cookies)" : "…";
  if (a.request) arrived = a.request.cookies.length ? a.request.cookies.join(", ") : "no cookies";
  cell(tr, arrived);
  let answer = a.preflight ? "request never sent" : "…";
  if (a.request) answer = `${a.request.status}${a.request.code ? ` ${a.request.code}` : ""}`;
  cell(tr, answer);
  const verdictClass = { succeeded: "verdict verdict-accepted", refused: "verdict verdict-refused" }[a.state] || "";
  const text = a.state === "pending" ? "waiting…" : `${STOPPED[a.stopped_by]}: ${a.explanation}`;
  cell(tr, text, verdictClass).dataset.field = "verdict";
  return tr;
}

function createCsrfLab(lab, start) {
  const link = document.getElementById("csrf-attacker-link");
  const report = document.getElementById("csrf-report");
  const victim = document.getElementById("csrf-victim");
  const errorBox = document.getElementById("csrf-error");

  function render(body) {
    report.querySelector("tbody").replaceChildren(...body.attacks.map(attackRow));
    report.hidden = false;
    const v = body.victim;
    const still = [];
    if (v.session_before) still.push(`session ${v.session_now ? "still logged in" : "LOGGED OUT"}`);
    if (v.jwt_before) still.push(`JWT cookie ${v.jwt_now ? "still logged in" : "LOGGED OUT"}`);
    still.push(`profile ${v.profile_unchanged ? "unchanged" : "CHANGED"}`);
    victim.textContent = `You, afterwards: ${still.join(", ")}.`;
    const intact = (!v.session_before || v.session_now) && (!v.jwt_before || v.jwt_now) && v.profile_unchanged;
    victim.dataset.intact = String(intact);
    victim.dataset.complete = String(body.complete);
    victim.hidden = false;
  }

  async function poll(url, until) {
    for (;;) {
      let body;
      try {
        body = await apiJson(url);
      } catch (error) {
        showError(errorBox, error);
        return;
      }
      render(body);
      if (body.complete || Date.now() >= until) return;
      await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
    }
  }

  start.addEventListener("click", async () => {
    showError(errorBox, null);
    let body;
    try {
      body = await postJson(lab.dataset.runsUrl);
    } catch (error) {
      showError(errorBox, error);
      return;
    }
    link.href = body.attacker_url;
    link.hidden = false;
    lab.dataset.runId = body.run_id;
    window.open(body.attacker_url, "_blank", "noopener");
    poll(body.report_url, Date.now() + POLL_FOR_MS);
  });
}

const lab = document.getElementById("csrf-lab");
const start = document.getElementById("csrf-start");
if (lab && start) createCsrfLab(lab, start);
