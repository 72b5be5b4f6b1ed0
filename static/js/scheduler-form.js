/* Moved out of templates/connections/_scheduler_form.html so the Content-Security-Policy can forbid inline scripts. */
// Show only the target that "What to run" needs (both stay visible without JavaScript).
(function () {
  var form = document.getElementById("scheduler-form"), kind = document.getElementById("id_kind");
  if (!form || !kind) { return; }
  function showTarget() {
    form.querySelectorAll("[data-for-kind]").forEach(function (box) { box.hidden = box.dataset.forKind !== kind.value; });
  }
  kind.addEventListener("change", showTarget);
  showTarget();
})();
