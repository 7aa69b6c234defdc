/* The reply form's counter (WCAG 4.1.3). It follows the answer as it is
   written, but was a live region: a screen reader read the count when the
   page opened and again after every pause in typing. It now tells only what
   the writer must act on: the answer became too long for the network, and
   it fits again. The count itself is read where it stands. No inline script
   (CSP). */
(function () {
  "use strict";

  function start() {
    var counter = document.getElementById("reply-count");
    var live = document.getElementById("live-polite");
    if (!counter || !live) return;
    var over = null;
    counter.addEventListener("htmx:afterSwap", function () {
      var length = counter.querySelector(".answer-length");
      if (!length) return;
      var now = length.classList.contains("over");
      if (over !== null && now !== over) {
        var line = document.createElement("p");
        line.textContent = now ? length.textContent.replace(/\s+/g, " ").trim()
          : counter.getAttribute("data-fits");
        live.replaceChildren(line);
      }
      over = now;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
