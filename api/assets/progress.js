// Moves on as soon as the flow does (provisioning done, the address verified in another tab);
// without JavaScript the page's meta refresh does the same, a little later.
(function () {
  var shown = document.currentScript.dataset.status;  // the step, ":setting_up" while it is
  (function poll() {
    fetch("/activate/status", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) { var now = s.status + (s.setting_up ? ":setting_up" : "");
                           if (now !== shown) { location.replace("/activate"); }
                           else { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  })();
})();
