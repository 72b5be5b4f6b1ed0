"""Form fields of the configuration forms: a JSON object typed in a textarea, and an ordered list of Transformers."""
from __future__ import annotations

import json
from typing import Any

from django import forms

from . import json_policy
from .models import Transformer


class JSONObjectField(forms.CharField):
    """A JSON object typed in a textarea. Errors say where (line, column) and keep the text.

    `example` is shown when something else than an object is typed; `rows` is the textarea's height.
    """

    widget = forms.Textarea

    def __init__(self, *args: Any, example: str = "{...}", rows: int = 8, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)
        self.example = example
        self.widget.attrs.update({"class": "json", "spellcheck": "false", "rows": rows})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json_policy.for_display(value)
        return value

    def to_python(self, value: Any) -> dict:
        if isinstance(value, dict):
            return value
        text = (value or "").strip()
        if not text:
            return {}
        try:
            parsed = json_policy.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                "Invalid JSON at line %(line)s, column %(column)s: %(msg)s.",
                code="invalid_json",
                params={"line": exc.lineno, "column": exc.colno, "msg": exc.msg},
            ) from None
        except json_policy.Unstorable as exc:
            raise forms.ValidationError(unstorable_message(exc), code="unstorable") from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Must be a JSON object (%(example)s), not %(kind)s.", code="not_object",
                                        params={"example": self.example, "kind": json_policy.kind_of(parsed)})
        return parsed

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial or {})
        except forms.ValidationError:
            return True


def unstorable_message(exc: Exception) -> str:
    """A field error for JSON the policy refuses (see json_policy)."""
    return f"This JSON can't be saved: it holds {exc}."


class OrderedTransformersField(forms.Field):
    """Saved Transformers in the order the user put them: one <select> per row, same name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.value_from_datadict = lambda data, files, name: (
            data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
        )

    def to_python(self, value: Any) -> list[Transformer]:
        ids = [str(v).strip() for v in (value or []) if str(v).strip()]
        if not ids:
            return []
        if not all(v.isdigit() for v in ids):
            raise forms.ValidationError("Choose transformers from the list.", code="invalid")
        found = {str(t.pk): t for t in Transformer.objects.filter(pk__in=ids)}
        missing = [v for v in ids if v not in found]
        if missing:
            raise forms.ValidationError(
                "A chosen transformer no longer exists (id %(ids)s).",
                code="missing",
                params={"ids": ", ".join(missing)},
            )
        return [found[v] for v in ids]

    def prepare_value(self, value: Any) -> list[str]:
        if not value:
            return []
        return [str(getattr(v, "pk", v)) for v in value]
