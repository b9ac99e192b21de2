/* The consumption statistics chart: revenue per period against the previous period. The
   Content-Security-Policy allows no inline script, so the figures arrive in
   <script type="application/json" id="consumption-data"> (Django's json_script) and are drawn here with
   the vendored Chart.js. Amounts arrive as decimal strings and are drawn as numbers (the table beside the
   chart keeps the exact figures). */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("consumption-data");
    var canvas = document.getElementById("consumption-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var toNumber = function (value) { return Number(value); };
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.names.current, data: data.current.map(toNumber), backgroundColor: "#2563eb" },
          { label: data.names.previous, data: data.previous.map(toNumber), backgroundColor: "#94a3b8" }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          tooltip: {
            callbacks: {
              title: function (items) {
                if (!items.length) { return ""; }
                var i = items[0].dataIndex;
                return data.labels[i] + " / " + (data.previous_labels[i] || "");
              }
            }
          }
        },
        scales: { y: { beginAtZero: true } }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
