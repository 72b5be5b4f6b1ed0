/* Moved out of templates/connections/transformer_form.html so the Content-Security-Policy can forbid inline scripts. */
// Mark the step card where the tester's chain stopped (the output names it; data-step-index is 0-based),
// after every swap of the output or the steps, and on load.
(function () {
  function markErrorStep() {
    var error = document.getElementById("output-error");
    var index = error ? error.dataset.stepIndex : "";
    document.querySelectorAll("#steps .step").forEach(function (card) {
      var hit = index !== "" && index !== "None" && card.dataset.step === String(Number(index) + 1);
      card.classList.toggle("step-error", hit);
    });
  }
  document.addEventListener("htmx:afterSettle", markErrorStep);
  markErrorStep();
})();

// "Load input from…" only picks what the Load button fetches: it must not start a tester run. The form's
// runs (on input and change) are synced with hx-sync="this:replace", so a run started by this choice a moment
// later would abort a Load still waiting on a slow server, and the input would never arrive.
["input", "change"].forEach(function (type) {
  document.addEventListener(type, function (event) {
    if (event.target && event.target.id === "id_source") {
      event.stopPropagation();
    }
  }, true);
});
