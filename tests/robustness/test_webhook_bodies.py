"""A webhook body follows the same JSON policy as a fetched page: a clear parse error, not a crash."""
import pytest

from webhooks.parsers import ParseError, parse_body


@pytest.mark.parametrize("body, shown", [
    (b'{"price": NaN}', "NaN at \u201cprice\u201d"),
    (b'{"price": 1e309}', "Infinity at \u201cprice\u201d"),
    (b'{"name": "\\ud800"}', "lone surrogate"),
    (b"[" * 5000 + b"]" * 5000, "nesting deeper than"),
    (b'{"n": ' + b"9" * 5000 + b"}", "4,300 digits"),
])
def test_json_the_policy_refuses_is_a_parse_error(body, shown):
    with pytest.raises(ParseError, match=shown):
        parse_body(body, {"format": "json"})
