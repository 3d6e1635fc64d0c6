// The member's phone pages: my personal check-in code (a signed short-lived token from
// /api/v1/me/qr, drawn by the server as SVG, renewed before it expires), and the check-in with
// the wall's rotating QR token.
(function () {
  "use strict";
  function eventId() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  var code = document.getElementById("my-code");
  if (code) {
    var img = document.getElementById("my-qr"), box = code.querySelector(".code-box"), timer = null;
    var load = function () {
      fetch("/api/v1/me/qr", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
        if (!j.token) { box.querySelector(".hint").textContent = (j.error && j.error.message) || code.dataset.msgFailed; return; }
        img.src = "/qr.svg?text=" + encodeURIComponent(j.token);
        var wait = j.expires_at ? Date.parse(j.expires_at) - Date.now() - 5000 : 30000;
        timer = setTimeout(load, Math.min(Math.max(wait, 5000), 120000));
      }).catch(function () { box.querySelector(".hint").textContent = code.dataset.msgFailed; });
    };
    document.getElementById("show-code").addEventListener("click", function () {
      box.hidden = !box.hidden;
      clearTimeout(timer);
      if (!box.hidden) { load(); }
    });
  }
  var confirm = document.getElementById("qr-checkin");
  if (confirm) {
    var d = confirm.dataset, out = document.getElementById("checkin-result");
    var eid = eventId();    // the same event on a retry: the server answers it once
    document.getElementById("confirm-checkin").addEventListener("click", function (e) {
      var button = e.target;
      button.disabled = true;
      fetch("/api/v1/meetings/" + d.meeting + "/checkins", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": d.csrf },
        body: JSON.stringify({ event_id: eid, qr_token: d.token, method: "qr" })
      }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); }).then(function (r) {
        if (!r.ok) {
          out.textContent = (r.body.error && r.body.error.message) || d.msgFailed;
          out.className = "checkin-message bad";
          button.disabled = false;
          return;
        }
        out.textContent = d.msgDone + (r.body.late ? " · " + d.msgLate : "") + (r.body.seat ? " · " + (r.body.seat.label || r.body.seat) : "");
        out.className = "checkin-message good";
        var state = document.getElementById("my-state");
        if (state && r.body.state === "present") { state.textContent = d.present + (r.body.late ? " · " + d.msgLate : ""); }
        button.hidden = true;
      }).catch(function () { out.textContent = d.msgFailed; out.className = "checkin-message bad"; button.disabled = false; });
    });
  }
})();
