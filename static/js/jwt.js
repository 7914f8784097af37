// JWT column of the home page: log in and out with the HttpOnly cookie transport.
// Tokens never reach this script; it only posts credentials and reloads.
(function () {
  "use strict";
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body ? JSON.stringify(body) : "{}",
    });
  }
  var form = document.getElementById("jwt-login");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("jwt-error");
      error.hidden = true;
      post(form.dataset.url, {
        username: form.elements.username.value,
        password: form.elements.password.value,
      }).then(function (response) {
        if (response.ok) {
          return response.json().then(function (body) {
            // Expiry times only (never a token): the keep-alive schedules the refresh.
            if (window.authdemoJwt) window.authdemoJwt.store(body);
            window.location.reload();
          });
        }
        return response.json().catch(function () { return {}; }).then(function (body) {
          error.textContent = (body && body.detail) || ("Login failed (" + response.status + ").");
          error.hidden = false;
        });
      }).catch(function () {
        error.textContent = "Network error.";
        error.hidden = false;
      });
    });
  }
  var logout = document.getElementById("jwt-logout");
  if (logout) {
    logout.addEventListener("click", function () {
      post("/api/auth/cookie/logout/").then(function () {
        if (window.authdemoJwt) window.authdemoJwt.forget();
        window.location.reload();
      });
    });
  }
})();
