/* Moved out of templates/webhooks/webhook_form.html so the Content-Security-Policy can forbid inline scripts. */
// A preset fills in the validators with the platform's documented scheme (secrets are generated on save).
(function () {
  const presets = JSON.parse(document.getElementById("webhook-presets").textContent);
  const select = document.getElementById("id_preset");
  const notes = document.getElementById("preset-notes");
  const set = (id, value) => { const el = document.getElementById(id); if (el) { if (el.type === "checkbox") el.checked = value; else el.value = value; } };
  function show() { const p = presets[select.value]; notes.textContent = p ? p.notes : ""; }
  select.addEventListener("change", function () {
    const p = presets[select.value];
    show();
    if (!p) return;
    const v = p.validators;
    set("id_hmac_enabled", !!v.hmac);
    if (v.hmac) { set("id_hmac_header", v.hmac.header); set("id_hmac_algorithm", v.hmac.algorithm); set("id_hmac_encoding", v.hmac.encoding); set("id_hmac_prefix", v.hmac.prefix || ""); }
    set("id_shared_secret_enabled", !!v.shared_secret);
    if (v.shared_secret) { set("id_shared_secret_location", v.shared_secret.location); set("id_shared_secret_name", v.shared_secret.name); }
    set("id_basic_enabled", !!v.basic);
    if (v.basic) set("id_basic_username", v.basic.username);
  });
  show();
})();
