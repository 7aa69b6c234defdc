/* The inbox list shows new items without a reload: every few seconds it asks
   the server for the newest item id (same filters) and, when it changed,
   replaces the rows. Rows are never replaced under the keyboard focus; the
   change is announced in a polite live region. No inline script (CSP). */
(function () {
  "use strict";
  var EVERY = 4000;

  function start() {
    var table = document.getElementById("inbox-table");
    if (!table) return;
    var rows = document.getElementById("inbox-rows");
    var live = document.getElementById("inbox-live");
    var pending = null;

    function apply(result) {
      if (table.contains(document.activeElement)) {
        pending = result;
        live.textContent = table.dataset.waitingText;
        return;
      }
      rows.innerHTML = result.rows;
      table.dataset.latest = String(result.latest);
      live.textContent = table.dataset.newText;
      pending = null;
    }

    function poll() {
      var url = table.dataset.pollUrl + "&siden=" + encodeURIComponent(table.dataset.latest);
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (result && result.changed && result.rows !== undefined) apply(result);
        })
        .catch(function () { /* try again next time */ })
        .finally(function () { setTimeout(poll, EVERY); });
    }

    table.addEventListener("focusout", function () {
      setTimeout(function () {
        if (pending && !table.contains(document.activeElement)) apply(pending);
      }, 0);
    });
    setTimeout(poll, EVERY);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
