// Organiser pages, progressive enhancement only: everything works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // After a failed submit, move focus to the list of problems so it is read out first.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // Removing a part cannot be undone: ask first.
  for (const form of document.querySelectorAll("form.remove")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm || "?")) {
        event.preventDefault();
      }
    });
  }
});
