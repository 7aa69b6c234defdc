/* Keyboard shortcuts in the inbox (WCAG 2.1.4): single keys act only when the
   focus is not in a field (typing, and screen readers' own keys, which come
   with a modifier or never reach the page, are left alone), never with Ctrl,
   Alt or Meta, and a person can turn them off in the help dialog (kept in
   this browser). The list remembers its order, so the conversation page can
   go to the next or previous one. No inline script (CSP). */
(function () {
  "use strict";
  var ORDER = "kanal.inbox.order";
  var OFF = "kanal.inbox.shortcutsOff";
  var LIST = "kanal.inbox.list";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" ||
      target.isContentEditable;
  }

  function store(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  function read(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }

  function turnedOff() {
    try { return window.localStorage.getItem(OFF) === "1"; } catch (e) { return false; }
  }

  function rowLinks() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#inbox-rows tr[id^='conversation-'] td a"));
  }

  function rememberOrder() {
    var links = rowLinks();
    if (!links.length) return;
    store(ORDER, JSON.stringify(links.map(function (a) { return a.getAttribute("href"); })));
  }

  /* The conversation page's way back leads to the list as the person left
     it (its filters, search and page), not to the first page of everything:
     on a busy day they work through one filtered page after another. */
  function backToList() {
    var back = document.getElementById("inbox-back");
    var list = read(LIST);
    if (!back || !list) return;
    var home = back.getAttribute("href");
    if (list.indexOf(home + "?") === 0) back.setAttribute("href", list);
  }

  function moveInList(step) {
    var links = rowLinks();
    if (!links.length) return;
    var at = links.indexOf(document.activeElement);
    var next = at === -1 ? (step > 0 ? 0 : links.length - 1) : at + step;
    if (next >= 0 && next < links.length) links[next].focus();
  }

  function moveFromConversation(step, here) {
    var order;
    try { order = JSON.parse(read(ORDER) || "[]"); } catch (e) { order = []; }
    var at = order.indexOf(here);
    var live = document.getElementById("inbox-shortcuts-live");
    if (at === -1 || !order[at + step]) {
      if (live) live.textContent = live.dataset[step > 0 ? "last" : "first"];
      return;
    }
    window.location.assign(order[at + step]);
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (field) { field.focus(); return true; }
    return false;
  }

  function start() {
    var help = document.getElementById("inbox-shortcuts");
    if (!help) return;
    var page = help.dataset.page;
    var toggle = document.getElementById("inbox-shortcuts-off");
    var opener = document.getElementById("inbox-shortcuts-open");
    var closer = document.getElementById("inbox-shortcuts-close");
    var returnTo = null;

    function openHelp() {
      returnTo = document.activeElement;
      help.showModal();
      closer.focus();
    }
    help.addEventListener("close", function () {
      if (returnTo && returnTo.focus) returnTo.focus();
    });
    opener.addEventListener("click", openHelp);
    closer.addEventListener("click", function () { help.close(); });
    if (page !== "list") backToList();
    toggle.checked = turnedOff();
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(OFF, toggle.checked ? "1" : "0"); } catch (e) { /* ignore */ }
    });
    if (page === "list") {
      store(LIST, window.location.pathname + window.location.search);
      rememberOrder();
      var rows = document.getElementById("inbox-rows");
      if (rows && window.MutationObserver) {
        new MutationObserver(rememberOrder).observe(rows, {childList: true});
      }
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
      if (typing(event.target) || help.open) return;
      if (event.key === "?") { event.preventDefault(); openHelp(); return; }
      if (turnedOff()) return;
      var done = true;
      if (page === "list") {
        if (event.key === "j") moveInList(1);
        else if (event.key === "k") moveInList(-1);
        else done = false;
      } else {
        var here = help.dataset.here;
        if (event.key === "j") moveFromConversation(1, here);
        else if (event.key === "k") moveFromConversation(-1, here);
        else if (event.key === "a") done = focusField("id_administration");
        else if (event.key === "r") done = focusField("reply-text");
        else if (event.key === "n") {
          var button = document.getElementById("mark-no-reply");
          if (button) button.click(); else done = false;
        } else done = false;
      }
      if (done) event.preventDefault();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
