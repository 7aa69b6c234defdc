// Follows a package being made: asks the page's JSON every second and
// updates the progress bar and the status line; reloads once it is ready.
(function () {
  "use strict";
  var bar = document.getElementById("export-progress");
  var status = document.getElementById("export-status");
  if (!bar || !status || bar.dataset.running !== "1") return;
  var url = bar.dataset.poll;
  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        bar.value = data.percent;
        bar.textContent = data.percent + " %";
        if (data.running) {
          status.textContent = data.message;
          window.setTimeout(tick, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 1000);
})();
