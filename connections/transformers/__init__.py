"""Transformer kinds: small, pure steps that shape entity data between systems.

A *step* is plain data: ``{"kind": "cast", "settings": {"key": "price", "to": "number"}}``. A saved
``Transformer`` holds an ordered list of steps. Every kind is a pure function
``(entity, settings) -> list[dict]``:

- ``[]`` means the entity was dropped (a filter did not keep it);
- one item is the usual case (the shaped entity);
- many items are branches ("get branches" splits a list into one entity per item).

The registry is the one explicit ``KINDS`` dict in ``registry.py``; the UI renders each kind's settings form from
its ``fields`` and the chain runner looks kinds up there. Nothing registers itself on import.

Purity and speed
----------------
Steps never mutate their input. They copy on write: only the containers along the path a step writes
are shallow-copied, so an output shares its untouched sub-objects with its input. Callers must treat
entities as immutable (or deep-copy before mutating in place); everything in this module does.
This is what keeps a 6-step chain well above 50,000 entities/s on one core (see
``benchmarks/bench_transformers.py``), where a deepcopy per step would not.

Keys
----
Keys are dotted paths; a segment that is a whole number indexes a list: ``lines.0.sku``. A key that
is missing is handled as each step's ``on_missing`` setting says: ``error`` (default: a clear
``TransformError``), ``skip`` (the step leaves the entity as it is) or ``default`` (use the step's
``default`` value instead).

How the engine uses this (the engine implements that side)
---------------------------------------------------------
- Paging counts the *raw* records a page returned, before any transformer runs, so a filter that
  drops every record on a page never ends paging early (``Run.entities`` is the raw count).
- An entity whose chain returns ``[]`` was filtered out: the engine adds one to ``Run.filtered`` and
  creates no task for it.
- A chain that returns several entities (branches) makes one task per branch; the engine suffixes
  the task's dedupe key with the branch position so a re-run cannot duplicate them.
- Use :func:`compile_chain` (or :func:`compile_transformers`) once per run and call the result per
  entity; :func:`apply_chain` compiles on every call, which is fine for one entity (the tester page).

Layout
------
One kind a module (``cast.py``, ``filter.py``, ...), each defining ``KIND``; ``registry.py`` lists them.
Shared pieces: ``errors.py``, ``paths.py`` (dotted keys), ``templates.py`` (``&{key}``), ``base.py``
(``Field``, ``Kind``, the on_missing policy), ``conditions.py`` and ``chain.py`` (validate and run).
"""
from .base import Field, Kind
from .chain import (
    apply_chain,
    apply_transformers,
    compile_chain,
    compile_transformers,
    describe_step,
    step_label,
    trace_chain,
    validate_steps,
)
from .errors import TransformError
from .paths import get_path
from .registry import KINDS
from .templates import render_template, template_keys

__all__ = [
    "KINDS",
    "Field",
    "Kind",
    "TransformError",
    "apply_chain",
    "apply_transformers",
    "compile_chain",
    "compile_transformers",
    "describe_step",
    "get_path",
    "render_template",
    "step_label",
    "template_keys",
    "trace_chain",
    "validate_steps",
]
