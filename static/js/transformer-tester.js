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
