// Passkeys in the browser: add one (the passkeys page) and log in without a
// password (the login page). The server sends WebAuthn options as JSON with
// base64url binary fields; this module turns them into the ArrayBuffers that
// navigator.credentials expects, and the credential back into JSON. Requests
// go through the site's shared http.js (CSRF header, JSON, errors).

import { ApiError, postJson, showError } from "./http.js";

/** Return ``buffer`` (ArrayBuffer or view) as unpadded base64url. */
export function base64urlEncode(buffer) {
  const bytes = new Uint8Array(buffer instanceof ArrayBuffer ? buffer : buffer.buffer);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Return the bytes of unpadded base64url ``text`` as an ArrayBuffer. */
export function base64urlDecode(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: base64urlDecode(d.id) }));
}

function creationOptions(options) {
  return {
    ...options,
    challenge: base64urlDecode(options.challenge),
    user: { ...options.user, id: base64urlDecode(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
}

function requestOptions(options) {
  return {
    ...options,
    challenge: base64urlDecode(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
}

/** Return the JSON form of a PublicKeyCredential (WebAuthn Level 3 toJSON(), built by hand where missing). */
function credentialJson(credential) {
  const r = credential.response;
  const response = { clientDataJSON: base64urlEncode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = base64urlEncode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = base64urlEncode(r.authenticatorData);
    response.signature = base64urlEncode(r.signature);
    if (r.userHandle) response.userHandle = base64urlEncode(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: base64urlEncode(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
}

/** Show ``error`` in ``root``'s alert; a cancelled or timed-out browser prompt is a NotAllowedError. */
function showPasskeyError(root, error) {
  const box = root.querySelector("[data-passkey-error]");
  showError(box, error.name === "NotAllowedError" ? new Error("The passkey prompt was cancelled.") : error);
}

async function passkeyAdd(root, form) {
  const begin = await postJson(root.dataset.optionsUrl);
  const credential = await navigator.credentials.create({ publicKey: creationOptions(begin.options) });
  await postJson(root.dataset.registerUrl, {
    state: begin.state,
    credential: credentialJson(credential),
    name: form.elements.name.value,
  });
  window.location.reload();
}

async function passkeyLogin(root) {
  // The second step of a password login carries its pending token; a passwordless login has none.
  const pending = {};
  if (root.dataset.secondStep !== undefined) {
    pending.mfa_token = document.querySelector("input[name=mfa_token]").value;
  }
  const begin = await postJson(root.dataset.optionsUrl, pending);
  const credential = await navigator.credentials.get({ publicKey: requestOptions(begin.options) });
  const done = await postJson(root.dataset.loginUrl, {
    ...pending,
    state: begin.state,
    credential: credentialJson(credential),
    next: root.dataset.next || "",
  });
  window.location.assign(done.redirect);
}

const adder = document.querySelector("[data-passkeys]");
if (adder) {
  const form = adder.querySelector("[data-passkey-add]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    passkeyAdd(adder, form).catch((error) => {
      if (error instanceof ApiError && error.code === "reauthentication_required") {
        // Adding a factor needs a recent authentication: prove it, then come back here.
        const next = encodeURIComponent(window.location.pathname);
        window.location.assign(`${adder.dataset.reauthUrl}?next=${next}`);
        return;
      }
      showPasskeyError(adder, error);
    });
  });
}

const login = document.querySelector("[data-passkey-login]");
if (login) {
  if (!window.PublicKeyCredential) {
    login.hidden = true;
  } else {
    login.querySelector("[data-passkey-login-button]").addEventListener("click", () => {
      passkeyLogin(login).catch((error) => showPasskeyError(login, error));
    });
  }
}
