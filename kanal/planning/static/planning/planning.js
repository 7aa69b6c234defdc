/* Planning: live preview in the editor, drag and drop in the calendar.
   No build step; htmx is loaded by the base template. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/csrftoken=([^;]+)/);
    return match ? match[1] : "";
  }

  /* -- Editor: preview per variant, "use the shared text" -------------- */
  function setUpEditor(form) {
    var url = form.dataset.previewUrl;
    var timers = {};
    function refresh(fieldset) {
      var channel = fieldset.dataset.channel;
      var data = new FormData();
      data.append("channel", channel);
      // Links are tracked with the post's campaign: the preview shows them so.
      var campaign = form.querySelector("[name=campaign]");
      if (campaign) data.append("campaign", campaign.value);
      fieldset.querySelectorAll("input, textarea, select").forEach(function (el) {
        if (!el.name) return;
        if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
        data.append(el.name, el.value);
      });
      fetch(url, {method: "POST", body: data, headers: {"X-CSRFToken": csrfToken()},
                  credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var target = document.getElementById("preview-" + channel);
          if (!target) return;
          target.innerHTML = html;
          tellVerdict(target);
        });
    }
    /* The preview follows every pause in typing, so it is no live region (a
       screen reader read the whole of it each time). A screen reader is told
       the network's verdict when it changes: a problem appears, or the
       variant passes again. */
    var verdicts = {};
    function verdict(target) {
      var found = target.querySelector(".problems") || target.querySelector(".ok-text");
      return found ? found.textContent.replace(/\s+/g, " ").trim() : "";
    }
    function tellVerdict(target) {
      var now = verdict(target);
      if (now === verdicts[target.id]) return;
      verdicts[target.id] = now;
      var live = document.getElementById("live-polite");
      if (!live || !now) return;
      var line = document.createElement("p");
      line.textContent = (target.getAttribute("data-channel-name") || "") + ": " + now;
      live.replaceChildren(line);
    }
    form.querySelectorAll(".variant-preview").forEach(function (target) {
      verdicts[target.id] = verdict(target);
    });
    form.querySelectorAll("fieldset.variant").forEach(function (fieldset) {
      // Typed before this script arrived: preview what is there now.
      if (form.dataset.refreshPreviews || (window.kanalEdited && window.kanalEdited(fieldset))) {
        refresh(fieldset);
      }
      var run = function (event) {
        if (event && event.target.classList.contains("media-search-input")) return;
        clearTimeout(timers[fieldset.dataset.channel]);
        timers[fieldset.dataset.channel] = setTimeout(function () { refresh(fieldset); }, 300);
      };
      fieldset.addEventListener("input", run);
      fieldset.addEventListener("change", run);
    });
    /* Searching the library adds checkboxes to the variant's media. */
    form.querySelectorAll("input.media-search-input").forEach(function (input) {
      var timer = null;
      var fieldset = input.closest("fieldset.variant");
      var results = input.parentElement.querySelector(".media-results");
      input.addEventListener("keydown", function (event) {
        // Enter searches; it must not submit (and save) the whole editor.
        if (event.key === "Enter") event.preventDefault();
      });
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var shown = [];
          fieldset.querySelectorAll("input[type=checkbox][name$='-media']").forEach(function (box) {
            if (!results.contains(box) || box.checked) shown.push(box.value);
          });
          var url = input.dataset.pickerUrl + "&q=" + encodeURIComponent(input.value) +
                    "&vist=" + shown.join(",");
          fetch(url, {credentials: "same-origin"})
            .then(function (r) { return r.ok ? r.text() : null; })
            .then(function (html) {
              if (html === null) return;
              // Keep what was ticked from an earlier search.
              var kept = [];
              results.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
                kept.push(box.closest("div").outerHTML);
              });
              results.innerHTML = kept.join("") + html;
            });
        }, 300);
      });
    });
    var campaignSelect = form.querySelector("[name=campaign]");
    if (campaignSelect) {
      campaignSelect.addEventListener("change", function () {
        form.querySelectorAll("fieldset.variant").forEach(refresh);
      });
    }
    form.querySelectorAll("button.copy-shared").forEach(function (button) {
      button.addEventListener("click", function () {
        var shared = form.querySelector("[name=shared_text]");
        var target = document.getElementById(button.dataset.target);
        if (shared && target) {
          target.value = shared.value;
          target.dispatchEvent(new Event("input", {bubbles: true}));
          target.focus();
        }
      });
    });
  }

  /* -- Calendar: drag an entry to another day ------------------------- */
  /* After a move the page's counts (the cadence chips, the week's tables)
     are fetched again from the server, so they never show the old plan. */
  var REFRESHED = ["ul.week-cadence", "table.cadence-table"];

  function refreshCounts(table) {
    return fetch(window.location.href, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshTable = fresh.querySelector("table.calendar");
        if (freshTable) table.innerHTML = freshTable.innerHTML;
        REFRESHED.forEach(function (selector) {
          var now = document.querySelector(selector);
          var then = fresh.querySelector(selector);
          if (now && then) now.replaceWith(then);
        });
      });
  }

  function setUpCalendar(table) {
    var status = document.getElementById("calendar-status");
    var dragged = null;
    function say(text, isError) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }
    function message(name, fallback) {
      return (status && status.dataset[name]) || fallback;
    }
    table.addEventListener("dragstart", function (event) {
      var entry = event.target.closest && event.target.closest("li.entry[draggable=true]");
      if (!entry) return;
      dragged = entry;
      entry.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", entry.dataset.post);
    });
    table.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      table.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
    });
    table.addEventListener("dragover", function (event) {
      var cell = event.target.closest && event.target.closest("td.day");
      if (!cell || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      table.querySelectorAll(".drop-target").forEach(function (c) { if (c !== cell) c.classList.remove("drop-target"); });
      cell.classList.add("drop-target");
    });
    table.addEventListener("drop", function (event) {
      var cell = event.target.closest && event.target.closest("td.day");
      if (!cell || !dragged) return;
      event.preventDefault();
      cell.classList.remove("drop-target");
      var entry = dragged;
      var data = new FormData();
      data.append("day", cell.dataset.date);
      fetch(entry.dataset.url, {method: "POST", body: data, credentials: "same-origin",
                                headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"}})
        .then(function (response) {
          return response.text().then(function (text) { return {ok: response.ok, text: text}; });
        })
        .then(function (result) {
          if (result.ok) {
            var list = cell.querySelector("ul.entries");
            if (list) {
              var empty = list.querySelector("li.empty");
              if (empty) empty.remove();
              list.appendChild(entry);
            }
            say(result.text, false);
            return refreshCounts(table).then(function () {
              table.dataset.refreshed = String(Number(table.dataset.refreshed || 0) + 1);
            });
          }
          say(result.text || message("errorMove", "Opslaget kunne ikke flyttes."), true);
        })
        .catch(function () {
          say(message("errorNetwork", "Forbindelsen svigtede. Opslaget er ikke flyttet."), true);
        });
      dragged = null;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var editor = document.getElementById("post-editor");
    if (editor) setUpEditor(editor);
    document.querySelectorAll("table.calendar").forEach(setUpCalendar);
  });
})();
