// The 三会一课 section on an organization's page: fills itself from
// GET /api/v1/orgs/{id}/cadence (the page works without it: the section links to the full page).
(function () {
  var box = document.querySelector("[data-cadence]");
  if (!box || !window.fetch) { return; }
  var out = box.querySelector(".cadence-live");
  function chip(status, text, title) {
    var s = document.createElement("span");
    s.className = "cad cad-" + status;
    s.textContent = text;
    if (title) { s.title = title; }
    return s;
  }
  fetch(box.getAttribute("data-cadence"), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) {
      if (!d || !out) { return; }
      var own = d.org.obligations || [];
      own.forEach(function (o) {
        var label = box.getAttribute("data-" + o.status.replace("_", "-")) || o.status;
        var text = o.kind_label + "（" + o.period_label + "）" + label;
        if (o.status !== "done") { text += " · " + (box.getAttribute("data-days") || "{n}").replace("{n}", o.days_left); }
        out.appendChild(chip(o.status, text, o.rule));
        out.appendChild(document.createTextNode(" "));
      });
      if ((d.orgs || []).length > 0) {
        var p = document.createElement("p");
        ["done", "due", "due_soon", "overdue"].forEach(function (k) {
          var label = box.getAttribute("data-" + k.replace("_", "-")) || k;
          p.appendChild(chip(k, label + " " + d.counts[k]));
          p.appendChild(document.createTextNode(" "));
        });
        out.appendChild(p);
      }
      box.hidden = own.length === 0 && (d.orgs || []).length === 0;
    })
    .catch(function () { /* the link stays */ });
})();
