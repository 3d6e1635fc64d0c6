// The hall's wall: live counts and tiles from the meeting's SSE stream (EventSource reconnects by
// itself and sends Last-Event-ID, so nothing is missed), the rotating check-in QR code, and the
// mode switch between attendance and the secretary's text. Keys: 1, 2, F.
(function () {
  "use strict";
  var wall = document.getElementById("wall");
  if (!wall) { return; }
  var id = wall.dataset.meeting;
  var msgs = document.getElementById("wall-msgs").dataset;
  var tiles = document.getElementById("tiles");
  var latest = document.getElementById("latest");

  function counts(c) {
    var set = function (k, v) { var el = wall.querySelector('[data-count="' + k + '"]'); if (el) { el.textContent = v; } };
    set("expected", c.expected); set("arrived", c.present + c.left_early);
    set("leave", c.leave); set("absent", c.absent);
  }
  function tileFor(d) {
    var t = tiles.querySelector('[data-person="' + d.person_id + '"]');
    if (!t) {
      t = document.createElement("li");
      t.className = "tile guest";
      t.dataset.person = d.person_id;
      var i = document.createElement("span"); i.className = "initial"; i.textContent = (d.name || "?").charAt(0);
      var n = document.createElement("span"); n.className = "name"; n.textContent = d.name || "";
      t.appendChild(i); t.appendChild(n);
      tiles.appendChild(t);
    }
    return t;
  }
  function arrival(d) {
    var t = tileFor(d);
    t.classList.remove("present", "left_early", "leave", "absent", "pop");
    t.classList.add(d.state);
    void t.offsetWidth;     // restart the animation
    if (d.state === "present") { t.classList.add("pop"); }
    var li = document.createElement("li");
    var time = (d.at || "").slice(11, 16);
    li.textContent = time + "  " + d.name + "  " + (d.state === "present" ? msgs.arrived : msgs.left);
    latest.insertBefore(li, latest.firstChild);
    while (latest.children.length > 8) { latest.removeChild(latest.lastChild); }
  }
  var live = document.getElementById("live-state");
  // resume after what the page already shows (EventSource sends Last-Event-ID only on reconnects)
  var es = new EventSource("/api/v1/meetings/" + id + "/stream?after=" + (wall.dataset.after || "0"));
  es.onopen = function () { live.textContent = msgs.live; live.classList.add("on"); };
  es.onerror = function () { live.textContent = msgs.offline; live.classList.remove("on"); };
  es.addEventListener("checkin", function (e) {
    var d = JSON.parse(e.data);
    if (d.person_id) { arrival(d); }
    if (d.counts) { counts(d.counts); }
  });

  // the rotating QR code: a URL of the member's check-in page with the current token
  var qr = document.getElementById("qr");
  function refreshQr() {
    if (!qr) { return; }   // closed: no code to scan
    fetch("/api/v1/meetings/" + id + "/qr", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
      if (!j.token) { setTimeout(refreshQr, 5000); return; }
      var url = location.origin + "/my/meetings/" + id + "?t=" + encodeURIComponent(j.token);
      qr.src = "/qr.svg?text=" + encodeURIComponent(url);
      var wait = Date.parse(j.expires_at) - Date.now();
      setTimeout(refreshQr, Math.min(Math.max(wait + 200, 2000), 15000));
    }).catch(function () { setTimeout(refreshQr, 5000); });
  }
  refreshQr();

  function mode(m) {
    wall.dataset.mode = m;
    document.getElementById("wall-attendance").hidden = m !== "attendance";
    document.getElementById("wall-text").hidden = m !== "text";
  }
  document.querySelectorAll("[data-mode]").forEach(function (b) {
    if (b.tagName === "BUTTON") { b.addEventListener("click", function () { mode(b.dataset.mode); }); }
  });
  function fullscreen() {
    if (!document.fullscreenElement && document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
    else if (document.exitFullscreen) { document.exitFullscreen(); }
  }
  document.querySelector("[data-fullscreen]").addEventListener("click", fullscreen);
  document.addEventListener("keydown", function (e) {
    if (e.key === "1") { mode("attendance"); }
    if (e.key === "2") { mode("text"); }
    if (e.key === "f" || e.key === "F") { fullscreen(); }
  });
})();
