// Client Hub: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="text" hidden>, shown only where they can work.
  function showCopyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", showCopyButtons);
  document.addEventListener("htmx:afterSettle", showCopyButtons);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
  // Destructive buttons ask first: <form class="confirm" data-confirm="…">.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  }, true);

  // The Kanban board: drag and drop with Sortable.js (loaded on demand), each drop
  // posted through htmx to the card's move route. Without JS the card forms do it.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function initBoard() {
    var board = document.querySelector("[data-board]");
    if (!board || board.hasAttribute("data-board-ready")) return;
    if (!window.Sortable) {
      if (document.querySelector("script[data-sortable]")) return;
      var script = document.createElement("script");
      script.src = board.getAttribute("data-sortable-src");
      script.setAttribute("data-sortable", "");
      script.onload = initBoard;
      document.head.appendChild(script);
      return;
    }
    board.setAttribute("data-board-ready", "");
    document.documentElement.classList.add("js");
    board.querySelectorAll("ol.cards").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board",
        animation: 150,
        // Pointer events rather than native drag and drop: works with touch and with test drivers.
        forceFallback: true,
        fallbackTolerance: 5,
        filter: "select, button, input",
        preventOnFilter: false,
        onEnd: function (evt) {
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
          var card = evt.item;
          var values = { status: evt.to.getAttribute("data-status"), position: String(evt.newIndex), csrf_token: csrfToken() };
          window.htmx.ajax("POST", card.getAttribute("data-move-url"), { source: card, values: values, swap: "none" })
            .then(updateCounts);
        }
      });
    });
  }
  function updateCounts() {
    document.querySelectorAll(".board-column").forEach(function (column) {
      var count = column.querySelector(".count");
      if (count) count.textContent = column.querySelectorAll(".task-card").length;
    });
  }
  // A refused move (another tab changed the board, or the session ended): show the truth.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (elt && elt.classList && elt.classList.contains("task-card") && (!xhr || xhr.status >= 400)) {
      window.location.reload();
    }
  });
  document.addEventListener("DOMContentLoaded", initBoard);
  document.addEventListener("htmx:afterSettle", initBoard);

  // Close the user menu after a boosted navigation.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.removeAttribute("open"); });
  });
})();
