/* Kith's own script. The Content-Security-Policy allows no inline script or style attribute, so values
   a template wants as CSS custom properties travel in data attributes and are set here through the CSSOM:
   data-chip="#hex" → --chip, data-depth="N" → --depth. Runs on load and after every htmx swap. */
(function () {
  "use strict";
  function applyStyleData(root) {
    root.querySelectorAll("[data-chip]").forEach(function (el) {
      el.style.setProperty("--chip", el.getAttribute("data-chip"));
    });
    root.querySelectorAll("[data-depth]").forEach(function (el) {
      el.style.setProperty("--depth", el.getAttribute("data-depth"));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { applyStyleData(document); });
  document.addEventListener("htmx:afterSwap", function (event) { applyStyleData(event.target); });
})();
