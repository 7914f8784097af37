// The JWT cookie login form and logout button (home page and labs).
// Tokens never reach this script; it only posts credentials and reloads.
import { forget, store } from "./jwt-keepalive.js";
import { postJson, showError, siteUrl } from "./http.js";

const form = document.getElementById("jwt-login");
if (form) {
  const errorBox = document.getElementById("jwt-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errorBox, null);
    try {
      const body = await postJson(form.dataset.url, {
        username: form.elements.username.value,
        password: form.elements.password.value,
      });
      // Expiry times only (never a token): the keep-alive schedules the refresh.
      await store(body);
      window.location.reload();
    } catch (error) {
      showError(errorBox, error);
    }
  });
}

const logout = document.getElementById("jwt-logout");
if (logout) {
  logout.addEventListener("click", async () => {
    try {
      await postJson(siteUrl("cookieLogout"));
      await forget();
    } catch {
      // Refused (e.g. CSRF): the login goes on, and the reloaded page says so.
    }
    window.location.reload();
  });
}
