/* Small behaviours for every page, without inline handlers (the
   Content-Security-Policy allows only scripts from Kanal's own files). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target.closest && event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });
  document.addEventListener("click", function (event) {
    var field = event.target.closest && event.target.closest("[data-select-on-click]");
    if (field && field.select) field.select();
  });
  /* Whether a person changed a field in `root` since the page arrived. A
     page's script that listens for typing asks this once when it is ready:
     on a slow connection a person types before the script has loaded, and
     the counts and previews must catch up instead of staying stale. */
  window.kanalEdited = function (root) {
    var some = Array.prototype.some;
    return some.call(root.querySelectorAll("input, textarea, select"), function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") {
        return some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (el.type === "file") return el.files && el.files.length > 0;
      return el.value !== el.defaultValue;
    });
  };
})();
