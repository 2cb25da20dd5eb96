// The screener's filter builder: a field, a comparison and a value become one more condition,
// joined with "and" to the expression box, which stays the one place the screen is written.
"use strict";
(function () {
  const builder = document.getElementById("screen-builder");
  const box = document.querySelector("form.screen input[name=q]");
  if (!builder || !box) return;
  builder.addEventListener("submit", function (event) {
    event.preventDefault();
    const value = builder.elements.value.value.trim();
    if (!value) return;
    const condition = builder.elements.field.value + " " + builder.elements.op.value + " " + value;
    const current = box.value.trim();
    box.value = current ? current + " and " + condition : condition;
    builder.elements.value.value = "";
    box.focus();
  });
})();
