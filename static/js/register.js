// Registration form, progressively enhanced: the form works without this file.
// When a date is chosen, offer "Online" only if that date can be attended online,
// and show the dietary-needs field only if food is served there.
(function () {
  "use strict";

  // `loaded`: the page has just opened. What a registration already has (online on a date
  // that no longer offers it) stays chosen until the person picks another date: saving a
  // new diet must not move them into the room behind their back.
  function update(form, loaded) {
    var chosen = form.querySelector('input[name="occurrence"]:checked');
    if (!chosen) { return; }
    var online = form.querySelector('input[name="attendance"][value="online"]');
    var inRoom = form.querySelector('input[name="attendance"][value="in_person"]');
    if (online) {
      var offered = chosen.dataset.online === "true" || (loaded && online.checked);
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
      if (event.target.name === "occurrence") { update(form, false); }
    });
    update(form, true);
  });
})();
