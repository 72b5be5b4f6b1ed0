"""The one policy for the JSON we keep: what a record, a setting or an imported file may hold.

Python's `json` reads more than JSON: NaN, Infinity and numbers beyond a double's range (1e309
reads as inf), integers of any length, lone surrogates ("\\ud800"), NUL characters and nesting of
any depth. The two databases refuse these differently (SQLite's JSON check silently skips the row
under INSERT OR IGNORE, PostgreSQL's jsonb fails the whole statement), and pages that render
deep nesting run out of stack. So they are refused the same way everywhere, with a message that
names where the value sits:

- typed by a user (forms, transformer settings, the tester, an import): a field error;
- in a platform's record: a step error naming the record; the run stops there, pages before it
  keep their tasks, and a transformer that replaces the value lets the run through.

Nothing is converted silently: a NaN turned into null would publish a wrong value.
"""
from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

MAX_DEPTH = 64  # nesting levels; real API records use a handful, pages break far below 1,000
MAX_NUMBER = sys.float_info.max  # what a double (SQLite's JSON, JavaScript, most platforms) can hold


class Unstorable(ValueError):
    """A value the policy refuses; `str()` says what and where."""


def loads(text: str | bytes) -> Any:
    """json.loads that refuses what can't be stored (raises ValueError with a readable message).

    json.JSONDecodeError (a ValueError) keeps its line and column for text that is not JSON at all.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise Unstorable(f"nesting deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise Unstorable("a number with more than 4,300 digits") from None
    check(value)
    return value


def problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """What in `value` can't be stored, with where it sits (“items[2].price”), or None."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= max_depth:
                return f"nesting deeper than {max_depth} levels{_at(path)}"
            for key, sub in item.items():
                if not isinstance(key, str):
                    key = str(key)
                bad = _text_problem(key)
                if bad:
                    return f"a key {bad}{_at(path)}"
                stack.append((sub, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(item, list | tuple):
            if depth >= max_depth:
                return f"nesting deeper than {max_depth} levels{_at(path)}"
            stack.extend((sub, f"{path}[{i}]", depth + 1) for i, sub in enumerate(item))
        elif isinstance(item, str):
            bad = _text_problem(item)
            if bad:
                return f"a text {bad}{_at(path)}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                name = "NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity"
                return f"{name}{_at(path)}: JSON has no NaN or Infinity (nor numbers beyond ±1.8e308)"
        elif isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > MAX_NUMBER:
                return f"a number beyond ±1.8e308{_at(path)}"
    return None


def kind_of(value: Any) -> str:
    """What kind of JSON value this is, for messages: "a list", "a string", "null", "an object"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise Unstorable when `value` holds something the policy refuses."""
    bad = problem(value, max_depth)
    if bad:
        raise Unstorable(bad)


def _text_problem(text: str) -> str:
    if text.isascii():
        if "\x00" in text:
            return "with a NUL character (\\u0000)"
        return ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "with a lone surrogate (e.g. \\ud800), which is not Unicode"
    return ""


def _at(path: str) -> str:
    return f" at “{path}”" if path else ""


def displayable(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of `value` that can be stored and shown: what the policy refuses becomes visible text.

    For samples only (Run test's first entities): a user must see the odd value to fix it, and
    a sample is never published.
    """
    if isinstance(value, dict):
        if max_depth <= 0:
            return "… (nested too deeply to show)"
        return {_displayable_text(str(k)): displayable(v, max_depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if max_depth <= 0:
            return "… (nested too deeply to show)"
        return [displayable(v, max_depth - 1) for v in value]
    if isinstance(value, str):
        return _displayable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        return "a number beyond ±1.8e308"
    return value


def _displayable_text(text: str) -> str:
    if _text_problem(text):
        return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\N{REPLACEMENT CHARACTER}")
    return text


def storable_size(value: Any, max_depth: int = MAX_DEPTH) -> int:
    """The length of `value` as JSON text; raises Unstorable as check() does.

    The engine calls this for every task it stores, so the common case is one C-speed dumps;
    the walk that finds and names the problem runs only when that text looks suspicious.
    """
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (ValueError, RecursionError):
        check(value, max_depth)
        raise Unstorable("not JSON") from None  # pragma: no cover - check() names the problem first
    suspicious = (
        (not text.isascii() and not _encodes(text))
        or "\\u0000" in text
        or text.count("{") + text.count("[") > max_depth
        or (len(text) > 308 and _LONG_NUMBER.search(text) is not None)
    )
    if suspicious:
        check(value, max_depth)
    return len(text)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_LONG_NUMBER = re.compile(r"\d{309}")  # 309 digits: beyond ±1.8e308 whatever follows


def for_display(value: Any, indent: int | None = 2) -> str:
    """JSON text of a stored value for a page or a form, whatever older versions let through.

    Too deep for the encoder: cut at MAX_DEPTH, saying so. A lone surrogate: written as its
    \\ud800 escape, so the page can be sent and the user sees what to fix.
    """
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=False)
    except RecursionError:
        value = displayable(value)
        text = json.dumps(value, indent=indent, ensure_ascii=False)
    if not text.isascii() and not _encodes(text):
        text = json.dumps(value, indent=indent)
    return text


def sendable(text: str) -> str:
    """`text` with lone surrogates written as their \\ud800 escapes, so a page holding it can be sent."""
    if text.isascii() or _encodes(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
