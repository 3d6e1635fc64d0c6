// Small progressive enhancements; every page works without them. No inline handlers, so a
// strict Content-Security-Policy can forbid inline script.
document.addEventListener("submit", function (e) {
  var f = e.target;
  var a = f.querySelector('input[name="new_password"]'), b = f.querySelector('input[name="new_password2"]');
  if (a && b && a.value !== b.value) {
    e.preventDefault();
    b.setCustomValidity(b.getAttribute("data-mismatch") || "≠");
    b.reportValidity();
    b.addEventListener("input", function () { b.setCustomValidity(""); }, { once: true });
    return;
  }
  var question = f.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { e.preventDefault(); }
});
document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) { window.print(); }
});
