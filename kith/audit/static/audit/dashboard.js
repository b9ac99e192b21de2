/* The security dashboard's charts. The Content-Security-Policy allows no inline script, so the figures
   arrive in <script type="application/json" id="dashboard-data"> (Django's json_script) and are drawn
   here with the vendored Chart.js. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var labels = data.days.map(function (day) { return day.slice(5); });
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    };
    var access = document.getElementById("chart-access");
    if (access) {
      new window.Chart(access, {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: data.labels.views, data: data.views, borderColor: "#2563eb", backgroundColor: "#2563eb", tension: 0.2 },
            { label: data.labels.searches, data: data.searches, borderColor: "#16a34a", backgroundColor: "#16a34a", tension: 0.2 },
            { label: data.labels.exported, data: data.exported, borderColor: "#d97706", backgroundColor: "#d97706", tension: 0.2 }
          ]
        },
        options: common
      });
    }
    var failed = document.getElementById("chart-failed");
    if (failed) {
      new window.Chart(failed, {
        type: "bar",
        data: {
          labels: labels,
          datasets: [{ label: data.labels.failed_logins, data: data.failed_logins, backgroundColor: "#dc2626" }]
        },
        options: common
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
