// The secretary's meeting page: a text file chosen for the wall is read into the text box (UTF-8;
// the form then saves it as text on the meeting).
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-fill]").forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var target = input.form && input.form.elements[input.dataset.fill];
      if (!file || !target) { return; }
      var reader = new FileReader();
      reader.onload = function () { target.value = String(reader.result || ""); };
      reader.readAsText(file, "utf-8");
    });
  });
})();
