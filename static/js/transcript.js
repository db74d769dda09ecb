// The recording page's transcript (templates/recording.html): the search filters the lines as
// you type, without reloading the page (the form still works without JavaScript, ?tq=).
// A line's time is an a.seek link, which player.js turns into a seek of the player.
(function () {
  "use strict";
  var section = document.querySelector("[data-transcript]");
  if (!section) { return; }
  var input = section.querySelector("input[name=tq]");
  var lines = Array.prototype.slice.call(section.querySelectorAll("[data-transcript-line]"));
  var status = section.querySelector("[data-transcript-count]");
  var texts = JSON.parse(section.querySelector("[data-transcript-texts]").textContent);

  function filter() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    lines.forEach(function (line) {
      var text = line.getAttribute("data-transcript-line");
      var hit = words.every(function (w) { return text.indexOf(w) !== -1; });
      line.hidden = !hit;
      if (hit) { shown += 1; }
    });
    status.hidden = words.length === 0;
    status.textContent = (shown === 1 ? texts.one : texts.other)
      .replace("%(num)d", String(shown)).replace("%(query)s", input.value.trim());
  }

  input.addEventListener("input", filter);
  section.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    filter();
  });
}());
