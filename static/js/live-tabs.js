// The live page on a phone: "Watch" and "Questions" as tabs under the player, which stays
// in view. Wide screens show both side by side; so does a page without this script.
(function () {
  "use strict";
  var page = document.querySelector(".qa-live");
  var bar = page && page.querySelector("[data-qa-tabs]");
  if (!bar) { return; }
  var tabs = Array.prototype.slice.call(bar.querySelectorAll("[role=tab]"));
  tabs.forEach(function (tab) {
    var panel = document.getElementById(tab.getAttribute("aria-controls"));
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
  });

  function choose(tab, focus) {
    tabs.forEach(function (other) {
      var on = other === tab;
      other.setAttribute("aria-selected", on ? "true" : "false");
      other.tabIndex = on ? 0 : -1;
    });
    page.dataset.tab = tab.id.replace("qa-tab-", "");
    if (focus) { tab.focus(); }
  }

  bar.addEventListener("click", function (event) {
    var tab = event.target.closest("[role=tab]");
    if (tab) { choose(tab, false); }
  });
  bar.addEventListener("keydown", function (event) {
    var at = tabs.indexOf(document.activeElement);
    if (at < 0) { return; }
    var next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) { return; }
    event.preventDefault();
    choose(tabs[(next + tabs.length) % tabs.length], true);
  });
  choose(tabs[0], false);
})();
