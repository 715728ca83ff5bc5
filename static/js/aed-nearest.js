/* The AED page's one script: "find the AED nearest to me". The browser's Geolocation API asks the
   visitor; the position, rounded to about 100 m, is sent as ?lat=&lng= and the server sorts by
   distance. Without JavaScript or a location, the district list works on its own. Messages come
   from the button's data-* attributes, written in the page's language. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var button = document.getElementById("aed-locate");
    var status = document.getElementById("aed-locate-status");
    if (!button || !status) { return; }
    if (!("geolocation" in navigator)) {
      status.textContent = button.getAttribute("data-unsupported");
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = button.getAttribute("data-locating");
      navigator.geolocation.getCurrentPosition(function (position) {
        var url = new URL(button.getAttribute("data-action"), window.location.href);
        url.searchParams.set("lat", position.coords.latitude.toFixed(3));
        url.searchParams.set("lng", position.coords.longitude.toFixed(3));
        window.location.assign(url.toString());
      }, function (error) {
        button.disabled = false;
        status.textContent = button.getAttribute(error.code === 1 ? "data-denied" : "data-failed");
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 });
    });
  });
})();
