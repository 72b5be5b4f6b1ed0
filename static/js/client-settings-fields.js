/* Moved out of templates/clients/_settings_fields.html so the Content-Security-Policy can forbid inline scripts. */
/* Show only the fields that apply (e.g. Copper: Authentication type OAuth 2.0 or API Keys). */
(function () {
  var form = document.currentScript.closest("form");
  function valueOf(name) { var el = form.querySelector("[name='" + name + "']"); return el ? el.value : ""; }
  function apply() {
    form.querySelectorAll("[data-show-if]").forEach(function (box) {
      var cond = JSON.parse(box.dataset.showIf), show = true;
      Object.keys(cond).forEach(function (name) { if (cond[name].indexOf(valueOf(name)) < 0) show = false; });
      box.hidden = !show;
    });
  }
  form.addEventListener("change", apply);
  apply();
  /* A secret's "Not set" / "Set" line follows what is typed, not only what is stored. */
  form.querySelectorAll(".secret-state").forEach(function (state) {
    var input = state.parentElement.querySelector("input[type='password']");
    if (!input) return;
    var stored = state.textContent;
    input.addEventListener("input", function () { state.textContent = input.value ? state.dataset.typed : stored; });
  });
})();
