"""Editors edit HTTP Clients too, but not their secrets or addresses (issue 15).

An Editor's edit page is ClientSettingsForm with every secret field and every URL field (Base URI,
Authorize URL, Token URL: where the credentials go) locked: shown read-only, and refused server-side
if a submission changes them anyway (a forged POST gets a field error naming what only an Admin may
change; nothing is saved). Name, identifier, request logging and the other settings stay editable.
"""
from __future__ import annotations

from .forms import ClientSettingsForm
from .platforms.base import Field


def admin_only(spec: Field) -> bool:
    """Secrets, and the URLs that decide which host receives them."""
    return spec.secret or spec.kind == "url"


def admin_only_message(spec: Field) -> str:
    what = "secrets" if spec.secret else "addresses (hosts)"
    return f"Only an Admin can change {spec.label}: HTTP Client {what} are Admin-only. Nothing was saved."


class EditorClientSettingsForm(ClientSettingsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for spec in self.locked_specs():
            widget = self.fields[spec.name].widget
            # A disabled password input is not submitted (blank keeps the secret); a read-only URL is.
            widget.attrs["disabled" if spec.secret else "readonly"] = True
            widget.attrs["title"] = "Only an Admin can change this."

    def locked_specs(self) -> list[Field]:
        return [spec for spec in self.platform.fields if admin_only(spec)]

    def _saved(self, spec: Field) -> str:
        saved = self.saved_settings or {}
        return saved[spec.name] if spec.name in saved else (spec.default or "")

    def clean(self) -> dict:
        for spec in self.locked_specs():
            if spec.name in self.errors:
                continue
            key = self.add_prefix(spec.name)
            if spec.secret:
                changed = bool((self.data.get(key) or "").strip())
            elif key not in self.data:  # not submitted: the saved address
                self.cleaned_data[spec.name] = self._saved(spec)
                changed = False
            else:
                changed = (self.cleaned_data.get(spec.name) or "") != self._saved(spec)
            if changed:
                self.add_error(spec.name, admin_only_message(spec))
        return super().clean()
