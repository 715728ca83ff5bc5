/* The public site's one script: on a phone, long filter forms fold behind one button.
   Without JavaScript every filter stays visible (the CSS folds only under html.js). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var toggles = document.querySelectorAll("[data-toggles]");
    Array.prototype.forEach.call(toggles, function (button) {
      var target = document.getElementById(button.getAttribute("data-toggles"));
      if (!target) { return; }
      // folded until asked for, unless a filter is in use (then the visitor sees what is applied)
      if (target.getAttribute("data-active") !== "1") {
        target.classList.add("collapsed");
        button.setAttribute("aria-expanded", "false");
      } else {
        button.setAttribute("aria-expanded", "true");
      }
      button.addEventListener("click", function () {
        var open = target.classList.toggle("collapsed") === false;
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
  });
})();
