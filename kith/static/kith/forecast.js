/* The forecast chart: won and weighted pipeline stacked into the forecast, beside the run-rate projection
   and the target. The Content-Security-Policy allows no inline script, so the figures arrive in
   <script type="application/json" id="forecast-data"> (Django's json_script) and are drawn here with the
   vendored Chart.js. Amounts arrive as decimal strings; the table beside the chart keeps them exact. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("forecast-data");
    var canvas = document.getElementById("forecast-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var number = function (value) { return value === null ? null : Number(value); };
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.names.won, data: [number(data.won), null, null], backgroundColor: "#16a34a", stack: "s" },
          { label: data.names.weighted, data: [number(data.weighted), null, null], backgroundColor: "#86efac", stack: "s" },
          { label: data.names.run_rate, data: [null, number(data.run_rate), null], backgroundColor: "#2563eb", stack: "s" },
          { label: data.names.target, data: [null, null, number(data.target)], backgroundColor: "#94a3b8", stack: "s" }
        ]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + item.formattedValue + " " + data.currency;
              }
            }
          }
        },
        scales: { x: { beginAtZero: true, stacked: true }, y: { stacked: true } }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
