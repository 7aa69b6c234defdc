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
})();
