/* Crisis composer: each network's version with its live count.
   The server counts with the networks' own adapters (the same code that
   refuses an over-long message), so the browser never guesses a count.
   Only the status parts are replaced; what the person types is never touched.
   No inline script: loaded as a static file (Content-Security-Policy). */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/csrftoken=([^;]+)/);
    return match ? match[1] : "";
  }

  function setUp(box) {
    var form = box.closest("form");
    if (!form || box.dataset.ready) return;
    box.dataset.ready = "1";
    var url = box.dataset.versionsUrl;
    var kind = box.dataset.kind || "message";
    var timer = null;
    var sequence = 0;

    function apply(result) {
      var summary = box.querySelector("[data-versions-summary]");
      if (summary && summary.innerHTML !== result.summary) summary.innerHTML = result.summary;
      Object.keys(result.networks).forEach(function (network) {
        var status = box.querySelector('[data-status-for="' + network + '"]');
        if (status) status.innerHTML = result.networks[network];
        var section = box.querySelector('[data-network="' + network + '"]');
        if (section) {
          var state = result.states[network];
          ["ok", "over", "unchosen", "skipped"].forEach(function (s) {
            section.classList.toggle(s, s === state);
          });
          // A version that does not fit opens its own-version field; it is
          // never closed for the person.
          var own = section.querySelector("[data-own-version]");
          if (own && state === "over" && result.too_long.indexOf(network) >= 0) {
            own.open = true;
          }
        }
      });
    }

    function refresh() {
      var data = new FormData(form);
      data.set("kind", kind);
      var mine = ++sequence;
      fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(form), "Accept": "application/json"}
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (result && mine === sequence) apply(result);
        })
        .catch(function () { /* the server still checks on send */ });
    }

    function schedule(event) {
      var target = event.target;
      if (target && target.name && /^(choice-|at-|bulk$)/.test(target.name)) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // Typed before this script arrived: count what is there now.
    if (window.kanalEdited && window.kanalEdited(form)) refresh();
  }

  function start() {
    document.querySelectorAll("[data-versions-url]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
