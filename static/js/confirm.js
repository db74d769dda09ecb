// Confirmation dialogs (templates/_confirm.html, live/confirm.py), progressive enhancement:
// without this file the form posts without `confirm` and the server shows a confirm page.
"use strict";

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const opener = target && target.closest("[data-confirm-open]");
  if (opener) {
    const dialog = opener.form && opener.form.querySelector("dialog[data-confirm-dialog]");
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    dialog.showModal();
    return;
  }
  const no = target && target.closest("[data-confirm-no]");
  if (no) no.closest("dialog").close();
});
