// After a failed Save, bring the first field in error into view and put the cursor in it.
// The server marks fields with .has-error (and step rows with .errorlist); the banner
// (templates/_form_errors.html) or an error message says the form was not saved.
(function () {
  function focusFirstError() {
    if (!document.querySelector("[data-form-errors], .messages .message.error")) return;
    var field = document.querySelector("form .has-error, form .errorlist");
    if (!field) return;
    var input = field.querySelector("input:not([type=hidden]), select, textarea") || field;
    field.scrollIntoView({block: "center"});
    if (input.focus) input.focus({preventScroll: true});
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
})();
