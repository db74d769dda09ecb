// The organiser's stream page: "Copy" buttons for the WHIP address, the key and the link.
(function () {
  "use strict";
  var said = document.querySelector("[data-copied]");
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      var done = function () { if (said) { said.textContent = said.dataset.copiedMessage; } };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
