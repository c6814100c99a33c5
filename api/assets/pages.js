// What the customer pages do with JavaScript. Every page works without it (docs/pages.md):
// this only spares a click, a double submission or a wait.
(function () {
  var script = document.currentScript;

  // A form goes once: its buttons stay disabled until the answer arrives. (Disabled after the
  // submit event, so the pressed button's name and value are still sent.) A page the browser
  // kept and shows again on Back gets working buttons back.
  document.addEventListener("submit", function (event) {
    var buttons = event.target.querySelectorAll("button");
    setTimeout(function () {
      buttons.forEach(function (button) { button.disabled = true; });
    }, 0);
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[disabled]").forEach(function (button) {
      button.disabled = false;
    });
  });

  // Times of day in the reader's own clock (the server writes UTC).
  document.querySelectorAll("time[data-clock]").forEach(function (element) {
    var at = new Date(element.getAttribute("datetime"));
    element.textContent = at.toLocaleTimeString(document.documentElement.lang, {
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  });

  // A waiting step moves on as soon as the flow does (the address verified in another tab,
  // provisioning done), and once a wait it shows is over (Resend becomes possible).
  var shown = script.dataset.status;  // the step, ":setting_up" while the product sets up
  if (!shown) { return; }
  var reloadIn = Number(script.dataset.reloadIn || 0);
  if (reloadIn > 0) {
    setTimeout(function () { location.replace(location.pathname); }, reloadIn * 1000 + 500);
  }
  // Often the flow moves on within a second of the click that led here (provisioning, an
  // address confirmed in this tab): the first reads come 200 ms apart, then further apart,
  // to one a second on a page left open.
  var every = 200;
  (function poll() {
    fetch("/activate/status", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var now = s.status + (s.setting_up ? ":setting_up" : "");
        if (now !== shown) { location.replace("/activate"); return; }
        every = Math.min(1000, every * 1.5);
        setTimeout(poll, every);
      })
      .catch(function () { setTimeout(poll, 3000); });
  })();
})();
