// Small progressive enhancements; every page works without them.
document.addEventListener("submit", function (e) {
  var f = e.target;
  var a = f.querySelector('input[name="new_password"]'), b = f.querySelector('input[name="new_password2"]');
  if (a && b && a.value !== b.value) {
    e.preventDefault();
    b.setCustomValidity("两次输入的新密码不一致");
    b.reportValidity();
    b.addEventListener("input", function () { b.setCustomValidity(""); }, { once: true });
  }
});
