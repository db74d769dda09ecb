// Registration form, progressively enhanced: the form works without this file.
// When a date is chosen, offer "Online" only if that date can be attended online,
// and show the dietary-needs field only if food is served there.
(function () {
  "use strict";

  function update(form) {
    var chosen = form.querySelector('input[name="occurrence"]:checked');
    if (!chosen) { return; }
    var online = form.querySelector('input[name="attendance"][value="online"]');
    var inRoom = form.querySelector('input[name="attendance"][value="in_person"]');
    if (online) {
      var offered = chosen.dataset.online === "true";
      online.disabled = !offered;
      if (!offered && online.checked && inRoom) { inRoom.checked = true; }
    }
    var diet = form.querySelector('input[name="diet"]');
    if (diet) {
      var field = diet.closest(".field");
      if (field) { field.hidden = chosen.dataset.food !== "true"; }
    }
  }

  document.querySelectorAll("form[data-registration]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "occurrence") { update(form); }
    });
    update(form);
  });
})();
