// The staff's check-in page: tick a name (manual, or 代签到 with a reason), type or scan a
// member's personal code, live counts and states from the meeting's SSE stream. No libraries.
(function () {
  "use strict";
  var app = document.getElementById("checkin-app");
  if (!app) { return; }
  var id = app.dataset.meeting, org = app.dataset.org, csrf = app.dataset.csrf;
  var people = [];          // {person_id, name, state, late, guest}
  var after = 0;            // the newest check-in the list shows: the stream resumes after it
  var filter = "absent", query = "", pinyinIds = null;
  var list = document.getElementById("people");
  var msg = document.getElementById("checkin-message");

  function eventId() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function say(text, bad) {
    msg.textContent = text;
    msg.className = "checkin-message " + (bad ? "bad" : "good");
  }
  function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
    });
  }
  function arrived(p) { return p.state === "present" || p.state === "left_early"; }
  function counts(c) {
    var set = function (k, v) { var el = app.querySelector('[data-count="' + k + '"]'); if (el) { el.textContent = v; } };
    set("expected", c.expected); set("arrived", c.present + c.left_early);
    set("leave", c.leave); set("absent", c.absent);
  }
  function recount() {
    var c = { expected: 0, present: 0, left_early: 0, leave: 0, absent: 0 };
    people.forEach(function (p) { if (!p.guest) { c.expected++; c[p.state] = (c[p.state] || 0) + 1; } });
    counts(c);
  }
  function matches(p) {
    if (filter === "absent" && arrived(p)) { return false; }
    if (filter === "present" && !arrived(p)) { return false; }
    if (!query) { return true; }
    if (p.name.indexOf(query) >= 0) { return true; }
    return pinyinIds !== null && pinyinIds.indexOf(p.person_id) >= 0;
  }
  function render() {
    list.textContent = "";
    people.filter(matches).forEach(function (p) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "person " + p.state + (p.guest ? " guest" : "");
      b.dataset.person = p.person_id;
      b.textContent = p.name;
      if (p.late) { b.classList.add("late"); }
      li.appendChild(b);
      list.appendChild(li);
    });
  }
  function load() {
    return api("GET", "/api/v1/meetings/" + id + "/attendance").then(function (r) {
      if (!r.ok) { say((r.body.error && r.body.error.message) || app.dataset.msgFailed, true); return; }
      people = r.body.people || [];
      after = r.body.last_seq || 0;
      counts(r.body);
      render();
    });
  }
  function post(body, label) {
    body.event_id = body.event_id || eventId();
    return api("POST", "/api/v1/meetings/" + id + "/checkins", body).then(function (r) {
      var err = r.body.error || {};
      // before the check-in window opens the server asks to confirm (its message says why)
      if (r.status === 409 && err.code === "confirmation_required" && !body.confirm) {
        var why = (err.warnings || []).map(function (w) { return w.message; }).join("\n");
        if (window.confirm(why || err.message)) { body.confirm = true; return post(body, label); }
        say(why || err.message, true);
        return;
      }
      if (!r.ok) { say(err.message || app.dataset.msgFailed, true); return; }
      var p = people.find(function (x) { return x.person_id === r.body.person_id; });
      if (p) { p.state = r.body.state; p.late = r.body.late; recount(); render(); }
      say(app.dataset.msgDone.replace("{name}", p ? p.name : (label || "")), false);
    }).catch(function () { say(app.dataset.msgFailed, true); });
  }

  list.addEventListener("click", function (e) {
    var b = e.target.closest("button.person");
    if (!b) { return; }
    var body = { person_id: Number(b.dataset.person), method: "manual" };
    if (document.getElementById("proxy-toggle").checked) {
      var reason = document.getElementById("proxy-reason").value.trim();
      if (!reason) { say(app.dataset.msgReason, true); document.getElementById("proxy-reason").focus(); return; }
      body.method = "proxy";
      body.reason = reason;
    }
    post(body, b.textContent);
  });
  document.getElementById("proxy-toggle").addEventListener("change", function (e) {
    document.getElementById("proxy-reason").hidden = !e.target.checked;
  });
  app.querySelectorAll("[data-filter]").forEach(function (b) {
    b.addEventListener("click", function () {
      filter = b.dataset.filter;
      app.querySelectorAll("[data-filter]").forEach(function (x) { x.classList.toggle("on", x === b); });
      render();
    });
  });
  var searchTimer = null;
  document.getElementById("search-input").addEventListener("input", function (e) {
    query = e.target.value.trim();
    pinyinIds = null;
    render();
    clearTimeout(searchTimer);
    // latin letters: pinyin initials, which the member search understands
    if (/^[A-Za-z]+$/.test(query)) {
      searchTimer = setTimeout(function () {
        var q = query;
        api("GET", "/api/v1/members?org=" + org + "&subtree=true&limit=200&q=" + encodeURIComponent(q)).then(function (r) {
          if (q !== query || !r.ok) { return; }
          pinyinIds = (r.body.items || []).map(function (m) { return m.id; });
          render();
        });
      }, 200);
    }
  });

  // a USB scanner types the code and Enter
  var scan = document.getElementById("scan-input");
  function scanned(code) {
    code = code.trim();
    if (!code) { return; }
    post({ person_token: code, method: "qr" });
  }
  scan.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); scanned(scan.value); scan.value = ""; }
  });

  // the camera, where the browser can read QR codes itself
  var camButton = document.getElementById("camera-button");
  var video = document.getElementById("camera");
  var stream = null;
  camButton.addEventListener("click", function () {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; video.hidden = true; return; }
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { say(app.dataset.msgNoCamera, true); return; }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s; video.srcObject = s; video.hidden = false; video.play();
      var last = "", lastAt = 0;
      (function tick() {
        if (!stream) { return; }
        detector.detect(video).then(function (codes) {
          var now = Date.now();
          if (codes.length && (codes[0].rawValue !== last || now - lastAt > 5000)) {
            last = codes[0].rawValue; lastAt = now;
            scanned(last);
          }
        }).catch(function () {}).then(function () { setTimeout(tick, 300); });
      })();
    }).catch(function () { say(app.dataset.msgNoCamera, true); });
  });

  // live: other doors, the wall's QR code, devices
  var liveState = document.getElementById("live-state");
  function connect() {
    var es = new EventSource("/api/v1/meetings/" + id + "/stream?after=" + after);
    es.onopen = function () { liveState.textContent = app.dataset.msgLive; liveState.classList.add("on"); };
    es.onerror = function () { liveState.textContent = app.dataset.msgOffline; liveState.classList.remove("on"); };
    es.addEventListener("checkin", function (e) {
      var d = JSON.parse(e.data);
      var p = people.find(function (x) { return x.person_id === d.person_id; });
      if (p) { p.state = d.state; p.late = d.late; render(); }
      if (d.counts) { counts(d.counts); }
    });
  }
  // cards read at a gate that matched nobody: listed for staff to sort out
  function unresolved() {
    api("GET", "/api/v1/meetings/" + id + "/unresolved-cards").then(function (r) {
      var items = (r.ok && r.body.items) || [];
      var box = document.getElementById("unresolved"), ul = document.getElementById("unresolved-list");
      box.hidden = items.length === 0;
      ul.textContent = "";
      items.forEach(function (c) {
        var li = document.createElement("li");
        li.textContent = (c.at || "").slice(11, 16) + " " + c.card_uid;
        ul.appendChild(li);
      });
    });
  }
  load().then(connect);
  unresolved();
  setInterval(unresolved, 15000);
  scan.focus();
})();
