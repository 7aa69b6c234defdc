/* Accessibility helpers for every page (loaded by base.html, no inline code):
   - an error summary gets focus after a failed submit, and its links move
     focus to the field (and scroll its label into view);
   - messages and the crisis banner present at page load are announced, by
     copying their text into live regions that were empty at load;
   - a focused field is never left under the sticky save bar;
   - a table that scrolls sideways in its frame can be reached and scrolled
     by keyboard and has a name. */
(function () {
  "use strict";

  function stickyBars() {
    return Array.prototype.filter.call(
      document.querySelectorAll(".sticky-actions"),
      function (bar) { return getComputedStyle(bar).position === "sticky"; });
  }

  /* Scroll so that `el` is not hidden under a sticky bar at the bottom. */
  function keepClearOfStickyBars(el) {
    var rect = el.getBoundingClientRect();
    stickyBars().forEach(function (bar) {
      if (bar.contains(el)) return;
      var top = bar.getBoundingClientRect().top;
      if (rect.bottom > top - 8 && top < window.innerHeight) {
        window.scrollBy(0, rect.bottom - top + 16);
      }
    });
  }

  function focusField(target) {
    var fieldset = target.closest("fieldset");
    var label = (fieldset && fieldset.querySelector("legend")) ||
      document.querySelector("label[for='" + target.id + "']");
    target.focus({preventScroll: true});
    (label || target).scrollIntoView({block: "start"});
    keepClearOfStickyBars(target);
  }

  function setUpErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) return;
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      if (target.matches("input, select, textarea, button")) {
        focusField(target);
      } else {
        if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
        target.focus();
      }
    });
    summary.focus();
  }

  function announce() {
    var regions = {
      polite: document.getElementById("live-polite"),
      assertive: document.getElementById("live-assertive")
    };
    var items = document.querySelectorAll("[data-announce]");
    if (!items.length) return;
    /* Screen readers read changes to a live region, not what it held at
       load: fill the regions a moment after the page has settled. */
    window.setTimeout(function () {
      items.forEach(function (item) {
        var once = item.getAttribute("data-announce-once");
        if (once) {
          try {
            if (window.sessionStorage.getItem("announced:" + once)) return;
            window.sessionStorage.setItem("announced:" + once, "1");
          } catch (e) { /* storage refused: announce every time */ }
        }
        var region = regions[item.getAttribute("data-announce")] || regions.polite;
        if (!region) return;
        var line = document.createElement("p");
        line.textContent = item.textContent.replace(/\s+/g, " ").trim();
        region.appendChild(line);
      });
    }, 400);
  }

  /* The text of the last heading before `el` in the document. */
  function headingBefore(el) {
    var found = "";
    document.querySelectorAll("main h1, main h2, main h3").forEach(function (h) {
      if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) {
        found = h.textContent;
      }
    });
    return found;
  }

  function setUpScrollingTables() {
    var frames = document.querySelectorAll(".table-scroll");
    function update() {
      frames.forEach(function (frame) {
        var scrolls = frame.scrollWidth > frame.clientWidth || frame.scrollHeight > frame.clientHeight;
        if (scrolls) {
          var table = frame.querySelector("table");
          var caption = table && table.querySelector("caption");
          var name = (caption && caption.textContent) || headingBefore(frame);
          frame.setAttribute("tabindex", "0");
          frame.setAttribute("role", "region");
          frame.setAttribute("aria-label", name.trim());
        } else if (frame.getAttribute("tabindex") === "0") {
          frame.removeAttribute("tabindex");
          frame.removeAttribute("role");
          frame.removeAttribute("aria-label");
        }
      });
    }
    update();
    window.addEventListener("resize", update);
    /* A table can widen after load (fonts, swapped content): look again
       whenever a frame or its table changes size. */
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(update);
      frames.forEach(function (frame) {
        observer.observe(frame);
        var table = frame.querySelector("table");
        if (table) observer.observe(table);
      });
    }
  }

  document.addEventListener("focusin", function (event) {
    if (stickyBars().length) keepClearOfStickyBars(event.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpScrollingTables();
    setUpErrorSummary();
    announce();
  });
})();
