/* Charts of the insights pages, drawn with Chart.js from the JSON each page
   carries beside its canvas (no inline script; the same numbers are in the
   table under each chart). Numbers and dates in the page's language. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  var lang = document.documentElement.lang || "da";
  var locale = lang.indexOf("en") === 0 ? "en-GB" : "da-DK";
  var numbers = new Intl.NumberFormat(locale);
  var days = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
  var moments = new Intl.DateTimeFormat(locale, {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
  var palette = ["#1f5f8b", "#c2410c", "#15803d", "#7c3aed", "#b91c1c",
                 "#0f766e", "#a16207", "#4b5563"];

  function label(value, time) {
    if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(value)) return value;
    var when = new Date(time ? value : value + "T12:00:00");
    return (time ? moments : days).format(when);
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var datasets = data.datasets.map(function (set, n) {
      var colour = palette[n % palette.length];
      return {
        label: set.label, data: set.data, borderColor: colour,
        backgroundColor: colour, spanGaps: true, pointRadius: 0, tension: 0.2,
      };
    });
    new Chart(canvas, {
      type: data.type,
      data: {
        labels: data.labels.map(function (v) { return label(v, data.time); }),
        datasets: datasets,
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        locale: locale,
        scales: {
          x: { stacked: !!data.stacked },
          y: {
            stacked: !!data.stacked,
            ticks: { callback: function (v) { return numbers.format(v); } },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                var v = item.raw;
                return item.dataset.label + ": " +
                  (v === null || v === undefined ? "–" : numbers.format(v));
              },
            },
          },
        },
      },
    });
    canvas.setAttribute("data-drawn", "1");
  });
})();
