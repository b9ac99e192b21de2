// The kanban board: drag a card to another column to move the deal (a POST to its move URL with the
// version it was loaded with). A refused move (an approval needed, someone else's change) shows the
// message and the card goes back. Each card also has a "Move to" form that works without this script.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function say(text, failed) {
    var box = document.getElementById("board-status");
    if (!box) return;
    box.className = "board-status alert " + (failed ? "alert-error" : "message-success");
    box.setAttribute("role", failed ? "alert" : "status");
    box.textContent = text;
  }

  // cents as BigInt from "1234.5" / "1234.56" (amounts have at most two decimals)
  function cents(text) {
    var parts = String(text).split(".");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    var negative = parts[0].charAt(0) === "-";
    var value = BigInt(parts[0].replace("-", "") || "0") * 100n + BigInt(frac);
    return negative ? -value : value;
  }

  function money(value) {
    var negative = value < 0n;
    if (negative) value = -value;
    var whole = value / 100n;
    var frac = String(value % 100n).padStart(2, "0");
    return (negative ? "-" : "") + whole + "." + frac;
  }

  function columnOf(list) {
    return list.closest(".board-column");
  }

  function adjust(column, card, sign) {
    if (!column) return;
    var count = column.querySelector(".board-count");
    if (count) {
      var n = parseInt(count.getAttribute("data-count"), 10) + sign;
      count.setAttribute("data-count", String(n));
      var label = n === 1 ? count.getAttribute("data-one") : count.getAttribute("data-many");
      count.textContent = (label || String(n)).replace(/\d+/, String(n));
    }
    var totals = column.querySelector(".board-totals");
    if (!totals) return;
    var sums = {};
    totals.querySelectorAll("[data-currency]").forEach(function (span) {
      sums[span.getAttribute("data-currency")] = cents(span.getAttribute("data-total"));
    });
    var currency = card.getAttribute("data-currency");
    sums[currency] = (sums[currency] || 0n) + BigInt(sign) * cents(card.getAttribute("data-amount"));
    totals.textContent = "";
    Object.keys(sums)
      .sort()
      .filter(function (code) {
        return sums[code] !== 0n;
      })
      .forEach(function (code, index) {
        if (index) totals.appendChild(document.createTextNode(" · "));
        var span = document.createElement("span");
        span.setAttribute("data-currency", code);
        span.setAttribute("data-total", money(sums[code]));
        span.textContent = money(sums[code]) + " " + code;
        totals.appendChild(span);
      });
    if (!totals.children.length) {
      var none = document.createElement("span");
      none.className = "muted";
      none.textContent = "—";
      totals.appendChild(none);
    }
  }

  function csrf(card) {
    var input = card.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function move(card, list, before) {
    var from = card.parentNode;
    var next = card.nextSibling;
    var stage = list.getAttribute("data-stage");
    if (from === list) return;
    list.insertBefore(card, before || null);
    adjust(columnOf(from), card, -1);
    adjust(columnOf(list), card, +1);
    card.classList.add("is-saving");
    var body = new FormData();
    body.append("stage", stage);
    body.append("version", card.getAttribute("data-version"));
    fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(card), Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().catch(function () {
          return { ok: false, message: response.statusText || "Error" };
        });
      })
      .then(function (answer) {
        card.classList.remove("is-saving");
        if (answer.ok) {
          card.setAttribute("data-version", String(answer.version));
          var version = card.querySelector('input[name="version"]');
          if (version) version.value = String(answer.version);
          var select = card.querySelector('select[name="stage"]');
          if (select) select.value = stage;
          say(answer.message, false);
        } else {
          from.insertBefore(card, next);
          adjust(columnOf(list), card, -1);
          adjust(columnOf(from), card, +1);
          say(answer.message, true);
        }
      })
      .catch(function () {
        card.classList.remove("is-saving");
        from.insertBefore(card, next);
        adjust(columnOf(list), card, -1);
        adjust(columnOf(from), card, +1);
        var board = document.querySelector("[data-board]");
        say(board ? board.getAttribute("data-network-error") : "", true);
      });
  }

  ready(function () {
    var board = document.querySelector("[data-board]");
    if (!board) return;
    var dragged = null;
    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest(".board-card");
      if (!card) return;
      dragged = card;
      card.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("is-dragging");
      dragged = null;
      board.querySelectorAll(".is-over").forEach(function (el) {
        el.classList.remove("is-over");
      });
    });
    board.addEventListener("dragover", function (event) {
      var list = event.target.closest && event.target.closest(".board-column");
      if (!list || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var cards = list.querySelector(".board-cards");
      board.querySelectorAll(".is-over").forEach(function (el) {
        if (el !== cards) el.classList.remove("is-over");
      });
      cards.classList.add("is-over");
    });
    board.addEventListener("drop", function (event) {
      var column = event.target.closest && event.target.closest(".board-column");
      if (!column || !dragged) return;
      event.preventDefault();
      var list = column.querySelector(".board-cards");
      list.classList.remove("is-over");
      var over = event.target.closest(".board-card");
      move(dragged, list, over && over !== dragged && over.parentNode === list ? over : null);
    });
  });
})();
