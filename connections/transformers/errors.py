"""The error a chain raises, and the key-level problems steps raise before it is located."""
from __future__ import annotations


class TransformError(Exception):
    """A step could not transform an entity (or a chain's settings are invalid).

    Attributes:
        step_index: 0-based position of the failing step in its chain (``None`` for a problem that
            is not tied to one step, e.g. steps that are not a list).
        step_label: human words for that step, e.g. ``step 2 (Cast)``.
        key: the dotted key the step was reading or writing, if any.
        detail: what went wrong and what to do, without the step prefix.
        transformer: the saved transformer's name when run through :func:`apply_transformers`.
    """

    def __init__(
        self,
        detail: str,
        *,
        step_index: int | None = None,
        step_label: str = "",
        key: str | None = None,
        transformer: str | None = None,
    ) -> None:
        self.detail = detail
        self.step_index = step_index
        self.step_label = step_label
        self.key = key
        self.transformer = transformer
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.transformer:
            where.append(f'Transformer "{self.transformer}"')
        if self.step_label:
            where.append(self.step_label if where else self.step_label[:1].upper() + self.step_label[1:])
        if self.key:
            where.append(f'key "{self.key}"')
        prefix = ", ".join(where)
        return f"{prefix}: {self.detail}" if prefix else self.detail

    def located(self, step_index: int, step_label: str) -> TransformError:
        """Return this error placed at a step (kinds raise without knowing their position)."""
        return TransformError(self.detail, step_index=step_index, step_label=step_label, key=self.key,
                              transformer=self.transformer)

    def in_transformer(self, name: str) -> TransformError:
        return TransformError(self.detail, step_index=self.step_index, step_label=self.step_label, key=self.key,
                              transformer=name)


class _Problem(Exception):
    """A key could not be read or written. Steps with on_missing skip/default absorb these."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(detail)
        self.key = key
        self.detail = detail


class _Missing(_Problem):
    pass


class _Conflict(_Problem):
    """A write goes through something that is not an object or list (e.g. ``a.b`` where a is 5)."""


def _fail(key: str | None, detail: str) -> TransformError:
    return TransformError(detail, key=key)
