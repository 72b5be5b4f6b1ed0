/* Moved out of templates/clients/_identifier_script.html so the Content-Security-Policy can forbid inline scripts. */
/* Suggest the identifier from the name while the user has not typed one of their own. */
(function () {
  var name = document.getElementById("id_name"), ident = document.getElementById("id_identifier");
  if (!name || !ident) return;
  var touched = ident.value !== "" && ident.value !== slug(name.value);
  function slug(s) {
    return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^\w\s-]/g, "").replace(/[-\s]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
  }
  ident.addEventListener("input", function () { touched = ident.value !== ""; });
  name.addEventListener("input", function () { if (!touched) ident.value = slug(name.value); });
})();
