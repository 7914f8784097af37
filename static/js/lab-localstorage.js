// ANTI-PATTERN PAGE ONLY: keeps a bearer access token in localStorage, where
// every script of this origin can read it. The site never does this; this
// page exists to show the XSS lab's injected script finding the token.
import { apiJson } from "./http.js";

const KEY = "antipattern_access_token";

function createLab(root) {
  const state = document.getElementById("ls-state");
  let refresh = null; // kept in memory, only to revoke the demo login afterwards

  function show() {
    const token = window.localStorage.getItem(KEY);
    state.textContent = token
      ? `localStorage["${KEY}"] holds an access token (${token.length} characters).`
      : "localStorage holds no token of this page.";
    state.dataset.stored = token ? "true" : "false";
  }

  document.getElementById("ls-login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      // A bearer client's login: no cookie goes along or comes back.
      const body = await apiJson(root.dataset.obtainUrl, {
        method: "POST",
        credentials: "omit",
        renew: false,
        json: { username: form.elements.username.value, password: form.elements.password.value },
      });
      window.localStorage.setItem(KEY, body.access); // the anti-pattern
      refresh = body.refresh;
      show();
    } catch (error) {
      state.textContent = error.message;
    }
  });

  document.getElementById("ls-forget").addEventListener("click", () => {
    const access = window.localStorage.getItem(KEY);
    window.localStorage.removeItem(KEY);
    if (access && refresh) {
      apiJson(root.dataset.revokeUrl, {
        method: "POST",
        credentials: "omit",
        renew: false,
        headers: { Authorization: `Bearer ${access}` },
        json: { refresh },
      }).catch(() => null);
    }
    refresh = null;
    show();
  });
  show();
}

const root = document.getElementById("ls-lab");
if (root) createLab(root);
