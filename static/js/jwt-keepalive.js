// Keeps the JWT cookie login alive on every page: refreshes the HttpOnly
// access cookie before it expires, once across all open tabs.
//
// The tokens themselves never reach this script (HttpOnly cookies, OWASP
// ASVS 5.0 V3.3.4). It only knows their expiry times, which the cookie login
// and refresh answers carry in their bodies; it keeps them in localStorage
// under EXPIRY_KEY (not secret) so that every tab of this origin shares one
// schedule.
//
// The schedule is fixed per access token: when an answer arrives, the
// refresh time is set once, a margin before expiry (at most 30 s, at most a
// third of the token's life), and stored beside the expiry. The timer checks
// the wall clock at least every CHECK_MS, so a tab that slept (laptop lid,
// background throttling) or was hidden refreshes once, at once, when it wakes.
//
// One refresh per cycle across tabs: the refresh runs under an exclusive Web
// Lock, and the tab that gets the lock second sees the new expiry and does not
// refresh again. Inside the lock the expiry is read from IndexedDB, whose
// committed writes every tab sees at once (localStorage reaches other tabs
// asynchronously, so it only serves to wake them up). Where the Web Locks API
// is missing, the server's refresh reuse grace period absorbs the rare
// parallel refresh.
import { apiFetch, loginEnded, readJson, setRenewal, siteUrl } from "./http.js";

export const EXPIRY_KEY = "authdemo.keepalive.expiry"; // {access_expires, refresh_expires, refresh_at, renewed_at}, epoch ms
const LOCK = "authdemo-jwt-refresh";
const MARGIN_MS = 30 * 1000;
const CHECK_MS = 10 * 1000;
// A timer that fires this early is treated as on time (timers may round down).
const EARLY_MS = 250;
const RETRY_MS = 2000;
const MAX_RETRY_MS = 60 * 1000;
let timer = null;
let refreshing = false;
let retryMs = RETRY_MS;

function valid(state) {
  return state && typeof state.access_expires === "number" && typeof state.refresh_at === "number" ? state : null;
}

function read() {
  try {
    return valid(JSON.parse(window.localStorage.getItem(EXPIRY_KEY) || "null"));
  } catch {
    return null;
  }
}

// The shared copy of the state in IndexedDB: resolves to the state or null, never rejects.
function shared(value) {
  return new Promise((resolve) => {
    if (!window.indexedDB) {
      resolve(null);
      return;
    }
    let open;
    try {
      open = window.indexedDB.open("authdemo", 1);
    } catch {
      resolve(null);
      return;
    }
    open.onupgradeneeded = () => open.result.createObjectStore("kv");
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction("kv", value === undefined ? "readonly" : "readwrite");
      const kv = tx.objectStore("kv");
      let request = null;
      if (value === undefined) request = kv.get(EXPIRY_KEY);
      else if (value) kv.put(value, EXPIRY_KEY);
      else kv.delete(EXPIRY_KEY);
      tx.oncomplete = () => {
        db.close();
        resolve(value === undefined ? valid(request.result) : value);
      };
      tx.onerror = tx.onabort = () => {
        db.close();
        resolve(null);
      };
    };
  });
}

function newest(a, b) {
  if (!a) return b;
  if (!b) return a;
  return b.access_expires > a.access_expires ? b : a;
}

/** Keep the expiry times of a cookie login or refresh answer; set this token's refresh time once. */
export async function store(body) {
  const now = Date.now();
  const accessExpires = Date.parse(body.access_expires);
  const refreshExpires = Date.parse(body.refresh_expires);
  if (Number.isNaN(accessExpires) || Number.isNaN(refreshExpires)) return;
  const margin = Math.min(MARGIN_MS, Math.max(0, (accessExpires - now) / 3));
  const state = {
    access_expires: accessExpires,
    refresh_expires: refreshExpires,
    refresh_at: accessExpires - margin,
    renewed_at: now,
  };
  keep(state);
  schedule();
  await shared(state);
}

function keep(state) {
  try {
    window.localStorage.setItem(EXPIRY_KEY, JSON.stringify(state));
  } catch {
    /* private mode */
  }
}

/** Forget the schedule: the cookie login ended (logout, revocation) or never was. */
export async function forget() {
  try {
    window.localStorage.removeItem(EXPIRY_KEY);
  } catch {
    /* private mode */
  }
  if (timer) window.clearTimeout(timer);
  timer = null;
  await shared(null);
}

function withLock(run) {
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request(LOCK, { mode: "exclusive" }, run);
  }
  return run();
}

/**
 * Refresh the cookie login unless it is not due or another tab already did;
 * resolve to true while the login is alive, false once it ended or was refused
 * (a 4xx), reject when it could not tell (network, 5xx: worth another try).
 * ``force``: refresh even if not due, unless a refresh has renewed the cookies
 * since ``since`` (epoch ms).
 */
export function refresh({ force = false, since = null } = {}) {
  const before = read();
  return withLock(async () => {
    const local = read();
    const state = newest(local, await shared());
    if (!state) return false;
    if (state !== local) keep(state); // another tab's refresh, not yet seen here
    if (since !== null && state.renewed_at > since) return true;
    // Another tab refreshed while this one waited for the lock.
    if (!force && before && state.access_expires > before.access_expires) return true;
    if (!force && Date.now() < state.refresh_at - EARLY_MS) return true;
    if (Date.now() >= state.refresh_expires) {
      await forget();
      return false;
    }
    const response = await apiFetch(siteUrl("cookieRefresh"), { method: "POST", renew: false });
    if (response.status >= 500) throw new Error(`refresh answered ${response.status}`);
    // The new state is stored before the lock is released.
    if (response.ok) {
      await store(await readJson(response));
      return true;
    }
    if (response.status === 401) {
      // The login ended (revoked, reused or expired): every panel that shows it says so.
      const body = await readJson(response);
      await forget();
      loginEnded("jwt", body.code === "token_reused" ? "refresh token reuse" : "ended on the server");
    }
    // Another 4xx (a CSRF token that a login in another tab rotated): this tab
    // stops; a tab that refreshes wakes it through the storage event.
    return false;
  });
}

// At the refresh time, or at the latest after CHECK_MS to look at the wall
// clock again (timers do not run while the machine sleeps). A refresh that
// could not tell (network, 5xx) is tried again, RETRY_MS later and then less
// and less often; a refused one stops this tab's schedule.
function schedule() {
  if (timer) window.clearTimeout(timer);
  timer = null;
  const state = read();
  if (!state || refreshing) return;
  const delay = state.refresh_at - Date.now();
  if (delay > EARLY_MS) {
    timer = window.setTimeout(schedule, Math.min(delay, CHECK_MS));
    return;
  }
  refreshing = true;
  refresh().then(
    (alive) => {
      refreshing = false;
      retryMs = RETRY_MS;
      if (alive) schedule();
    },
    () => {
      refreshing = false;
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(schedule, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  );
}

/**
 * Start the keep-alive on this page (static/js/site.js, once per page): follow
 * the shared schedule, and renew the login for the site's API calls.
 */
export function start() {
  // A 401 of the site's API that a refresh can cure: refresh once (unless one
  // already renewed the cookies since the request was sent) and let it retry.
  setRenewal((sentAt) => {
    const state = read();
    if (!state || Date.now() >= state.refresh_expires) return Promise.resolve(false);
    return refresh({ force: true, since: sentAt }).catch(() => false);
  });
  // Another tab refreshed or logged out: follow its schedule.
  window.addEventListener("storage", (event) => {
    if (event.key === EXPIRY_KEY) schedule();
  });
  // A hidden tab shown again, a frozen tab resumed, a machine back online: catch up at once.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") schedule();
  });
  document.addEventListener("resume", schedule);
  window.addEventListener("online", schedule);

  if (document.body.dataset.jwtLogin === "off") {
    // The server saw no JWT cookie login and the access cookie is gone: if the
    // refresh cookie may still be alive, renew it now; otherwise forget.
    const state = read();
    if (state && Date.now() < state.refresh_expires && Date.now() >= state.access_expires) {
      refresh({ force: true }).then(
        (alive) => alive && window.location.reload(),
        () => schedule()
      );
      return;
    }
  }
  schedule();
}
