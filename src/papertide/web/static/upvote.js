// Upvotes without a page reload (issue #5). The upvote buttons are plain forms that work
// without JavaScript; this posts them with fetch instead and updates every button for that
// paper in place. Loaded only for signed-in visitors; no dependencies, CSP-clean.
(function () {
  "use strict";

  function setState(form, upvoted, label, total) {
    var button = form.querySelector("button.upvote");
    var vote = form.querySelector('input[name="vote"]');
    var count = form.querySelector(".upvote-count");
    if (!button || !vote || !count) {
      return;
    }
    vote.value = upvoted ? "0" : "1";
    button.classList.toggle("upvoted", upvoted);
    button.setAttribute("aria-pressed", upvoted ? "true" : "false");
    button.title = total + (total === 1 ? " upvote" : " upvotes");
    count.textContent = label;
  }

  function formsFor(action) {
    var all = document.querySelectorAll("form.upvote-form");
    var same = [];
    for (var i = 0; i < all.length; i++) {
      if (all[i].action === action) {
        same.push(all[i]);
      }
    }
    return same;
  }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("upvote-form")) {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return; // one request at a time per button; a second click waits for the answer
    }
    form.setAttribute("aria-busy", "true");
    var token = form.querySelector('input[name="csrf_token"]');
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json", "X-CSRF-Token": token ? token.value : "" },
      credentials: "same-origin"
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { response: response, data: data };
        });
      })
      .then(function (result) {
        if (result.response.ok) {
          var forms = formsFor(form.action);
          for (var i = 0; i < forms.length; i++) {
            setState(forms[i], result.data.upvoted, result.data.label, result.data.upvotes);
          }
        } else if (result.response.status === 401 && result.data.login_url) {
          window.location.assign(result.data.login_url);
        } else {
          // Refused (an expired form, too many votes): the plain post shows the full page
          // that explains why and what to do.
          form.submit();
        }
      })
      .catch(function () {
        form.submit(); // the network or the JSON failed: fall back to the plain form post
      })
      .then(function () {
        form.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("submit", onSubmit);
})();
