// What the site's page scripts share: the CSRF token, JSON requests to the
// site's API, error display, and marking a login that ended on every panel.
// The site's addresses reach scripts through data-* attributes rendered with
// {% url %}; no script writes a path of its own.

// 401 codes that a refresh of the JWT cookie login can cure: the access
// cookie expired (still sent, or already dropped by the browser).
const RENEWABLE = new Set(["token_expired", "not_authenticated"]);
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let renewal = null;

/**
 * Return the CSRF token rendered into this page, for the X-CSRFToken header of
 * every unsafe request (OWASP ASVS 5.0 V3.5.1). Not read from the cookie, whose
 * name carries a __Host- prefix over HTTPS.
 */
export function csrfToken() {
  const meta = document.querySelector("meta[name=csrf-token]");
  return meta ? meta.content : "";
}

/** Return the site address named ``name`` from the page's data-url-* attributes (base.html). */
export function siteUrl(name) {
  const url = document.body.dataset[`url${name[0].toUpperCase()}${name.slice(1)}`];
  if (!url) throw new Error(`no data-url for ${name} on this page`);
  return url;
}

/** An answer of the site's API that was not 2xx: its status and {detail, code, errors} body. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || (status ? `Error ${status}.` : "Network error."));
    this.status = status;
    this.body = body || {};
    this.code = this.body.code || "";
  }

  /** Return the message with every field error of a 400 ("invalid") answer. */
  describe() {
    const errors = this.body.errors || {};
    const details = Object.values(errors).flat().map((e) => (e && e.message) || String(e));
    return [this.message, ...details].join(" ");
  }
}

/**
 * Let the JWT keep-alive renew the cookie login: ``renew(sentAt)`` resolves to
 * true when the request sent at ``sentAt`` (epoch ms) may succeed if sent again.
 */
export function setRenewal(renew) {
  renewal = renew;
}

/**
 * fetch() for the site's own API: same-origin cookies, the CSRF header on
 * unsafe methods, a JSON body from ``json``. On a 401 that a refresh can cure
 * it lets the keep-alive renew the login and sends the request once more
 * (``renew: false``: never, as for the refresh itself).
 */
export async function apiFetch(url, { method = "GET", json, headers = {}, renew = true, ...rest } = {}) {
  const init = { method, credentials: "same-origin", ...rest, headers: { Accept: "application/json", ...headers } };
  if (UNSAFE.has(method.toUpperCase())) init.headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  const sentAt = Date.now();
  const response = await fetch(url, init);
  if (response.status !== 401 || !renew || renewal === null) return response;
  const body = await readJson(response.clone());
  if (!RENEWABLE.has(body.code)) return response;
  return (await renewal(sentAt)) ? fetch(url, init) : response;
}

/** Return the JSON body of ``response``, or {} when it has none. */
export async function readJson(response) {
  try {
    const body = await response.json();
    return body && typeof body === "object" ? body : {};
  } catch {
    return {};
  }
}

/** Send a request with apiFetch and return its JSON body; throw ApiError for a non-2xx or network failure. */
export async function apiJson(url, options = {}) {
  let response;
  try {
    response = await apiFetch(url, options);
  } catch {
    throw new ApiError(0, { detail: "Network error.", code: "network_error" });
  }
  const body = response.status === 204 ? {} : await readJson(response);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** POST ``payload`` as JSON with the CSRF header; return the answer's body or throw ApiError. */
export function postJson(url, payload = {}) {
  return apiJson(url, { method: "POST", json: payload });
}

/** Show ``error`` (an ApiError or any Error) in ``box``, an element with role=alert; hide it for null. */
export function showError(box, error) {
  if (!box) return;
  box.hidden = error === null;
  box.textContent = error === null ? "" : error instanceof ApiError ? error.describe() : error.message;
  if (error instanceof ApiError) box.dataset.code = error.code;
}

/**
 * Mark every panel of this page that shows the ``kind`` login ("session" or
 * "jwt") live as ended: the element's text (countdowns inside it included)
 * becomes its data-login-ended text and the reason.
 */
export function loginEnded(kind, reason = "") {
  document.querySelectorAll(`[data-login=${kind}]`).forEach((el) => {
    if (el.dataset.loginState === "ended") return;
    el.dataset.loginState = "ended";
    el.textContent = (el.dataset.loginEnded || "ended") + (reason ? ` (${reason})` : "");
    el.classList.remove("state-on");
    el.classList.add("state-off", "ended");
  });
  document.dispatchEvent(new CustomEvent("authdemo:login-ended", { detail: { kind, reason } }));
}
