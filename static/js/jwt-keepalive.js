// Keeps the JWT cookie login alive on every page: refreshes the HttpOnly
// access cookie shortly before it expires, once across all open tabs.
//
// The tokens themselves never reach this script (HttpOnly cookies, OWASP
// ASVS 5.0 V3.3.4). It only knows their expiry times, which the cookie login
// and refresh answers carry in their bodies; it keeps them in localStorage
// (not secret) so that every tab of this origin shares one schedule.
//
// One refresh per cycle across tabs: the refresh runs under an exclusive Web
// Lock, and the tab that gets the lock second sees the new expiry and does not
// refresh again. Where the Web Locks API is missing, the server's refresh
// reuse grace period absorbs the rare parallel refresh.
//
// window.authdemoApi(url, options) is a fetch for the site's own scripts: on a
// 401 token_expired it refreshes once and retries the request once.
(function () {
  "use strict";
  var STORE = "authdemo.jwt";           // {access_expires, refresh_expires} as epoch ms
  var LOCK = "authdemo-jwt-refresh";
  var REFRESH_URL = "/api/auth/cookie/refresh/";
  var MARGIN_MS = 30 * 1000;            // refresh this long before the access token expires
  var MIN_DELAY_MS = 1000;
  var timer = null;

  function read() {
    try {
      var state = JSON.parse(window.localStorage.getItem(STORE) || "null");
      return state && typeof state.access_expires === "number" ? state : null;
    } catch (e) {
      return null;
    }
  }

  function write(body) {
    var state = {
      access_expires: Date.parse(body.access_expires),
      refresh_expires: Date.parse(body.refresh_expires),
    };
    if (isNaN(state.access_expires) || isNaN(state.refresh_expires)) return;
    try { window.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode */ }
    schedule();
  }

  function forget() {
    try { window.localStorage.removeItem(STORE); } catch (e) { /* private mode */ }
    if (timer) { window.clearTimeout(timer); timer = null; }
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Margin: at most a third of the token's remaining life, so short lifetimes still work.
  function dueAt(state) {
    var now = Date.now();
    var margin = Math.min(MARGIN_MS, Math.max(0, (state.access_expires - now) / 3));
    return state.access_expires - margin;
  }

  function post() {
    return fetch(REFRESH_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
  }

  // Refresh unless another tab already did; resolves to true when the login is alive.
  function refresh(force) {
    var before = read();
    var run = function () {
      var now = read();
      if (!now) return Promise.resolve(false);
      // Another tab refreshed while this one waited for the lock.
      if (!force && before && now.access_expires > before.access_expires) return Promise.resolve(true);
      if (!force && Date.now() < dueAt(now)) return Promise.resolve(true);
      return post().then(function (response) {
        if (response.ok) return response.json().then(function (body) { write(body); return true; });
        if (response.status === 401) forget(); // the login ended: revoked, reused or expired
        return false;
      }, function () { return false; });
    };
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(LOCK, { mode: "exclusive" }, run);
    }
    return run();
  }

  function schedule() {
    if (timer) { window.clearTimeout(timer); timer = null; }
    var state = read();
    if (!state) return;
    if (state.refresh_expires && Date.now() >= state.refresh_expires) { forget(); return; }
    var delay = Math.max(MIN_DELAY_MS, dueAt(state) - Date.now());
    timer = window.setTimeout(function () {
      refresh(false).then(function (alive) { if (alive) schedule(); });
    }, delay);
  }

  function authdemoApi(url, options) {
    var opts = Object.assign({ credentials: "same-origin" }, options || {});
    return fetch(url, opts).then(function (response) {
      if (response.status !== 401 || !read()) return response;
      return response.clone().json().catch(function () { return {}; }).then(function (body) {
        if (!body || body.code !== "token_expired") return response;
        return refresh(true).then(function (alive) { return alive ? fetch(url, opts) : response; });
      });
    });
  }

  window.authdemoJwt = { store: write, forget: forget, refresh: refresh };
  window.authdemoApi = authdemoApi;

  // Another tab refreshed or logged out: follow its schedule.
  window.addEventListener("storage", function (event) {
    if (event.key === STORE) schedule();
  });
  // A tab that slept (laptop lid, background throttling) catches up at once.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") schedule();
  });

  var body = document.body;
  if (body && body.dataset.jwtLogin === "off") {
    // The server saw no JWT cookie login and the access cookie is gone: if the
    // refresh cookie may still be alive, renew it now; otherwise forget.
    var state = read();
    if (state && Date.now() < state.refresh_expires && Date.now() >= state.access_expires) {
      refresh(true).then(function (alive) { if (alive) window.location.reload(); });
      return;
    }
  }
  schedule();
})();
