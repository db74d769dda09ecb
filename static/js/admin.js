// Organiser pages, progressive enhancement only: everything works without this file.
// Confirmations are static/js/confirm.js's.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // After a failed submit, move focus to the list of problems so it is read out first.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  const status = document.querySelector("[data-move-status]");
  const say = (text) => { if (status) status.textContent = text; };

  // Post a move (direction=up|down or position=N) to the element's move form; the server's
  // answer (a redirect to the editor) is followed but not shown. Resolves to success.
  async function post(form, fields) {
    const body = new FormData();
    body.set("csrf_token", form.elements.csrf_token.value);
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    try {
      const response = await fetch(form.action, {method: "POST", body, credentials: "same-origin"});
      return response.ok;
    } catch (_) {
      return false;
    }
  }

  // The up/down buttons of each element: first and last cannot move further.
  function refresh(list) {
    const rows = [...list.children];
    rows.forEach((row, i) => {
      const up = row.querySelector("[data-move='up']");
      const down = row.querySelector("[data-move='down']");
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === rows.length - 1;
    });
  }

  function report(ok) {
    if (status) say(ok ? status.dataset.movedText : status.dataset.failedText);
    if (!ok) window.location.reload();
  }

  for (const list of document.querySelectorAll("[data-sortable]")) {
    // Keyboard: the buttons move the row in place and keep focus on the pressed button.
    for (const form of list.querySelectorAll("[data-move-form]")) {
      form.addEventListener("submit", async (event) => {
        const button = event.submitter;
        if (!button || !button.dataset.move) return;
        event.preventDefault();
        const row = form.closest("li");
        const direction = button.dataset.move;
        const sibling = direction === "up" ? row.previousElementSibling : row.nextElementSibling;
        if (!sibling) return;
        if (direction === "up") list.insertBefore(row, sibling); else list.insertBefore(sibling, row);
        refresh(list);
        const target = button.disabled ? row.querySelector("[data-move]:not([disabled])") : button;
        if (target) target.focus();
        report(await post(form, {direction}));
      });
    }

    // Drag and drop: a row dropped on another takes its place.
    let dragged = null;
    list.addEventListener("dragstart", (event) => {
      dragged = event.target instanceof Element ? event.target.closest("li[draggable]") : null;
      if (!dragged) return;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.item || "");
      dragged.classList.add("dragging");
    });
    list.addEventListener("dragover", (event) => {
      if (dragged) event.preventDefault();
    });
    list.addEventListener("drop", async (event) => {
      const target = event.target instanceof Element ? event.target.closest("li") : null;
      if (!dragged || !target || target === dragged || target.parentElement !== list) return;
      event.preventDefault();
      const rows = [...list.children];
      const to = rows.indexOf(target);
      if (rows.indexOf(dragged) < to) target.after(dragged); else target.before(dragged);
      dragged.classList.remove("dragging");
      const form = dragged.querySelector("[data-move-form]");
      dragged = null;
      refresh(list);
      report(await post(form, {position: String(to + 1)}));
    });
    list.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
    });
  }
});

// "Copy" buttons beside read-only links and keys (templates/admin/_links.html): hidden
// without JavaScript, where the field is selected and copied by hand.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy]")) {
    const input = document.getElementById(button.dataset.copy);
    const said = document.querySelector(`[data-copied="${button.dataset.copy}"]`);
    if (!input) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const done = () => { if (said) said.textContent = said.dataset.copiedMessage; };
      try {
        await navigator.clipboard.writeText(input.value);
        done();
      } catch (_) {
        input.select();
        if (document.execCommand("copy")) done();
      }
    });
  }
});
