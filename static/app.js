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

  // Chat: messages arrive over the page's event stream (htmx SSE extension), after a
  // post (out of band), or by polling when no stream can be kept open. Each message
  // carries its number, so the list keeps one of each, and a stream that is opened
  // again resumes after the last number shown.
  var pollTimer = null;
  function chatList() { return document.getElementById("messages"); }
  function lastSeq(list) {
    var last = 0;
    list.querySelectorAll("[data-seq]").forEach(function (m) { last = Math.max(last, Number(m.getAttribute("data-seq"))); });
    return last;
  }
  function tidyChat() {
    var list = chatList();
    if (!list) return;
    var seen = {};
    list.querySelectorAll("[data-seq]").forEach(function (m) {
      var seq = m.getAttribute("data-seq");
      if (seen[seq]) m.remove(); else seen[seq] = true;
    });
    var empty = document.getElementById("chat-empty");
    if (empty && list.querySelector("[data-seq]")) empty.remove();
    var log = document.getElementById("chat-log");
    var base = log && log.getAttribute("data-stream-base");
    if (base) log.setAttribute("sse-connect", base + "?after=" + lastSeq(list));
  }
  function scrollChat(force) {
    var log = document.getElementById("chat-log");
    if (!log) return;
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 160;
    if (force || nearBottom) log.scrollTop = log.scrollHeight;
  }
  function poll() {
    var log = document.getElementById("chat-log");
    var list = chatList();
    if (!log || !list || !log.getAttribute("data-poll-base")) { stopPolling(); return; }
    window.htmx.ajax("GET", log.getAttribute("data-poll-base") + "?after=" + lastSeq(list), { target: list, swap: "beforeend" });
  }
  function startPolling() { if (!pollTimer) pollTimer = window.setInterval(poll, 4000); }
  function stopPolling() { if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; } }
  document.addEventListener("htmx:sseOpen", function (event) {
    if (event.target.id === "chat-log") stopPolling();
  });
  document.addEventListener("htmx:sseError", function (event) {
    if (event.target.id === "chat-log") startPolling();
  });
  function chatArrived() { tidyChat(); scrollChat(false); }
  document.addEventListener("htmx:sseMessage", chatArrived);
  document.addEventListener("htmx:oobAfterSwap", chatArrived);
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "messages") chatArrived();
    if (target && target.id === "composer") {
      scrollChat(true);
      var box = document.getElementById("chat-body");
      if (box && !box.value) box.focus();
    }
  });
  function openChat() {
    if (!chatList()) { stopPolling(); return; }
    tidyChat();
    scrollChat(true);
    if (!window.EventSource && document.getElementById("chat-log").getAttribute("data-poll-base")) startPolling();
  }
  document.addEventListener("DOMContentLoaded", openChat);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target === document.body) openChat();
  });
  // Enter sends; Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    if (event.target.id !== "chat-body" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    var form = event.target.form;
    if (form && event.target.value.trim()) form.requestSubmit();
  });

  // Close the user menu after a boosted navigation.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.removeAttribute("open"); });
  });
})();
