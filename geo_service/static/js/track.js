/* The tracking page: copy the link, rate a resolved report, reopen one that is not fixed.
   Both go through the citizens' API with the tracking token; the page then reloads to show
   the new timeline. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  var copy = $("copy-link");
  if (copy) {
    copy.addEventListener("click", function () {
      var input = $("tracking-link");
      var done = function () { $("copy-status").textContent = GS.t("Copied."); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select();
        if (document.execCommand("copy")) { done(); }
      }
    });
  }

  function post(form, path, body, errorBox) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    GS.fetchJSON("/api/v1/track/" + encodeURIComponent(form.dataset.token) + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (res) {
      if (res.ok) {
        window.location.replace(window.location.pathname);
        return;
      }
      errorBox.textContent = GS.t("Could not do it:") + " " + (res.body.detail || res.status);
      button.disabled = false;
    }, function () {
      errorBox.textContent = GS.t("Connection error, please try again.");
      button.disabled = false;
    });
  }

  var rating = $("rating-form");
  if (rating) {
    rating.addEventListener("change", function () { $("rating-error").textContent = ""; });
    rating.addEventListener("submit", function (e) {
      e.preventDefault();
      var satisfied = rating.querySelector("input[name=satisfied]:checked");
      var stars = rating.querySelector("input[name=stars]:checked");
      var missing = [];
      if (!satisfied) { missing.push([GS.t("Please say whether it was fixed."), "satisfied"]); }
      if (!stars) { missing.push([GS.t("Please choose the stars."), "stars"]); }
      if (missing.length) {
        $("rating-error").textContent = missing.map(function (m) { return m[0]; }).join(" ");
        rating.querySelector("input[name=" + missing[0][1] + "]").focus();
        return;
      }
      var body = { satisfied: satisfied.value === "true", stars: Number(stars.value) };
      var comment = $("rating-comment").value.trim();
      if (comment) { body.comment = comment; }
      post(rating, "/rating", body, $("rating-error"));
    });
  }

  var reopen = $("reopen-form");
  if (reopen) {
    reopen.addEventListener("submit", function (e) {
      e.preventDefault();
      var comment = $("reopen-comment").value.trim();
      post(reopen, "/reopen", comment ? { comment: comment } : {}, $("reopen-error"));
    });
  }
})();
