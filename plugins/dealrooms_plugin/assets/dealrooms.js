/* Dealrooms: re-computes the proposal's validity from the visitor's clock,
   so a site built in November still says "expired" when opened in January.
   The build-time text stays as the fallback without JavaScript. */
(function () {
  "use strict";
  var DAY = 86400000;
  function localMidnight(iso) {
    var p = iso.split("-");
    return new Date(+p[0], +p[1] - 1, +p[2]).getTime();
  }
  function update(root) {
    var now = new Date();
    var today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
    root.querySelectorAll("[data-dr-valid-until]").forEach(function (el) {
      var until = localMidnight(el.getAttribute("data-dr-valid-until"));
      var days = Math.round((until - today) / DAY);
      var time = el.querySelector("time");
      var date = time ? time.outerHTML : "";
      var state, text;
      if (days < 0) { state = "expired"; text = "Expired on " + date; }
      else if (days === 0) { state = "expires_today"; text = "Expires today (" + date + ")"; }
      else if (days <= 14) { state = "expiring"; text = "Expires in " + days + (days === 1 ? " day" : " days") + " (" + date + ")"; }
      else { state = "valid"; text = "Valid until " + date; }
      el.className = "dr-validity dr-validity--" + state;
      el.innerHTML = text;
      var box = el.closest("[data-dr-validity]");
      if (box) {
        box.classList.remove("success", "warning", "danger");
        box.classList.add(state === "expired" ? "danger" : state === "valid" ? "success" : "warning");
        var note = box.querySelector("[data-dr-validity-note]");
        if (note && state === "expired") {
          note.textContent = "This proposal has expired. Ask for a renewed offer; prices and availability may have changed.";
        }
      }
      var card = el.closest(".dr-card");
      if (card) { card.className = card.className.replace(/dr-card--(expired|expiring|expires_today|valid)/, "dr-card--" + state); }
    });
  }
  function run() { update(document); }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(run); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); }
  else { run(); }
})();
