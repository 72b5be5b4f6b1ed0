/* Site-wide behaviours, declared in the markup with data attributes (the Content-Security-Policy
   allows no inline scripts or on* handlers):
     <form data-confirm="Delete this route?">   asks before submitting
     <input type="checkbox" data-select-all="task">   ticks every input[name=task] of its form
     <input readonly data-select-on-click>   selects its text when clicked (for copying) */
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

document.addEventListener("click", function (event) {
  var all = event.target.closest("input[data-select-all]");
  if (all) {
    all.closest("form").querySelectorAll("input[name='" + all.dataset.selectAll + "']").forEach(function (box) {
      box.checked = all.checked;
    });
    return;
  }
  var copyable = event.target.closest("[data-select-on-click]");
  if (copyable) { copyable.select(); }
});
