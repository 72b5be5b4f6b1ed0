/* Moved out of templates/webhooks/webhook_form.html so the Content-Security-Policy can forbid inline scripts. */
// A preset fills in the validators with the platform's documented scheme (secrets are generated on save).
(function () {
  const presets = JSON.parse(document.getElementById("webhook-presets").textContent);
  const form = document.getElementById("webhook-form");
  const select = document.getElementById("id_preset");
  const notes = document.getElementById("preset-notes");
  // The fields a preset writes to.
  const FIELDS = ["id_hmac_enabled", "id_hmac_header", "id_hmac_algorithm", "id_hmac_encoding", "id_hmac_prefix",
    "id_shared_secret_enabled", "id_shared_secret_location", "id_shared_secret_name",
    "id_basic_enabled", "id_basic_username"];
  const set = (id, value) => { const el = document.getElementById(id); if (el) { if (el.type === "checkbox") el.checked = value; else el.value = value; } };
  function show() { const p = presets[select.value]; notes.textContent = p ? p.notes : ""; }
  function apply() {
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
  }
  // Empty: a box not ticked, no text, a list still on the choice the page came with.
  function empty(id) {
    const el = document.getElementById(id);
    if (!el) return true;
    if (el.type === "checkbox") return !el.checked;
    if (el.tagName === "SELECT") {
      const served = Array.from(el.options).find((o) => o.defaultSelected) || el.options[0];
      return !served || el.value === served.value;
    }
    return el.value === "";
  }
  select.addEventListener("change", apply);
  show();
  // A preset chosen before this script ran (a slow page, a loaded machine) had no listener to fill the
  // validators in: apply it now, but only on a new webhook, only for a choice made on this page (not one
  // the page came back with after an error) and only while every field it writes to is still empty.
  const chosenHere = select.selectedIndex > 0 && !select.options[select.selectedIndex].defaultSelected;
  if (form && "newWebhook" in form.dataset && chosenHere && presets[select.value] && FIELDS.every(empty)) apply();
})();
