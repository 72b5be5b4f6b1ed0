/* Moved out of templates/connections/_entity_script.html so the Content-Security-Policy can forbid inline scripts. */
document.addEventListener("click", function (event) {
  var fill = event.target.closest("[data-fill-template]");
  if (fill) {
    var target = document.getElementById(fill.dataset.fillTarget);
    if (target) {
      target.value = JSON.stringify(JSON.parse(fill.dataset.fillTemplate), null, 2);
      target.focus();
    }
    return;
  }
  var rows = document.getElementById("transformer-rows");
  var add = event.target.closest("[data-add-transformer]");
  if (add) {
    var template = document.getElementById("transformer-row-template");
    rows.appendChild(template.content.cloneNode(true));
    renumberTransformerRows();
    rows.lastElementChild.querySelector("select").focus();
    return;
  }
  var move = event.target.closest("[data-move-row]");
  if (move) {
    var row = move.closest(".transformer-row");
    var other = move.dataset.moveRow === "up" ? row.previousElementSibling : row.nextElementSibling;
    if (other) { rows.insertBefore(row, move.dataset.moveRow === "up" ? other : other.nextElementSibling); }
    renumberTransformerRows();
    move.focus();
    return;
  }
  var remove = event.target.closest("[data-remove-row]");
  if (remove) { remove.closest(".transformer-row").remove(); renumberTransformerRows(); }
});

// Number the rows (the chain's order), and disable the moves that would go nowhere.
function renumberTransformerRows() {
  var rows = document.querySelectorAll("#transformer-rows .transformer-row");
  rows.forEach(function (row, i) {
    var n = i + 1;
    row.querySelector("select").setAttribute("aria-label", "Transformer " + n);
    row.querySelector("[data-move-row=up]").disabled = i === 0;
    row.querySelector("[data-move-row=up]").setAttribute("aria-label", "Move transformer " + n + " up");
    row.querySelector("[data-move-row=down]").disabled = i === rows.length - 1;
    row.querySelector("[data-move-row=down]").setAttribute("aria-label", "Move transformer " + n + " down");
    row.querySelector("[data-remove-row]").setAttribute("aria-label", "Remove transformer " + n);
  });
  var none = document.querySelector("[data-no-transformers]");
  if (none) { none.hidden = rows.length > 0; }
}
if (document.getElementById("transformer-rows")) { renumberTransformerRows(); }

// The identifier follows the name (as Django's slugify would) until someone edits it by hand.
(function () {
  var name = document.getElementById("id_name"), identifier = document.getElementById("id_identifier");
  if (!name || !identifier || identifier.value) { return; }
  identifier.dataset.auto = "1";
  name.addEventListener("input", function () {
    if (!identifier.dataset.auto) { return; }
    identifier.value = name.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^\w\s-]/g, "").replace(/[-\s]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
  });
  identifier.addEventListener("input", function () { delete identifier.dataset.auto; });
})();
