"""Body parsers: JSON paths, form, CSV, and XML that refuses entity expansion."""
import pytest

from webhooks.parsers import ParseError, items_at, parse_body


def entities(body: bytes, fmt: str = "json", path: str = "", **extra) -> list:
    return items_at(parse_body(body, {"format": fmt, "path": path, "delimiter": ",", **extra}), path)


def test_json_paths():
    body = b'{"data": {"id": 1}, "events": [{"data": {"id": 2}}, {"data": {"id": 3}}], "list": [4, 5]}'
    assert entities(body, path="data") == [{"id": 1}]
    assert entities(body, path="events.*.data") == [{"id": 2}, {"id": 3}]
    assert entities(body, path="events.1.data.id") == [3]
    assert entities(body, path="list") == [4, 5]
    assert entities(b'[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]
    assert entities(b'{"a": 1}') == [{"a": 1}]


def test_a_missing_path_says_where():
    with pytest.raises(ParseError, match="no “items” at “data.items”"):
        entities(b'{"data": {"id": 1}}', path="data.items")


def test_form_csv_and_xml():
    assert entities(b"name=Ada&tag=a&tag=b", "form") == [{"name": "Ada", "tag": ["a", "b"]}]
    assert entities(b"\xef\xbb\xbfid;name\n1;Ada\n2;Bob\n", "csv", delimiter=";") == [
        {"id": "1", "name": "Ada"}, {"id": "2", "name": "Bob"}]
    xml = b'<orders xmlns="urn:x"><order id="1"><name>Ada</name></order><order id="2"><name>Bob</name></order></orders>'
    assert entities(xml, "xml", path="orders.order") == [{"@id": "1", "name": "Ada"}, {"@id": "2", "name": "Bob"}]


@pytest.mark.parametrize("xml", [
    # "billion laughs": entity expansion
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<lolz>&lol2;</lolz>",
    # an external entity reading a local file
    b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
])
def test_xml_with_entities_or_a_dtd_is_refused_before_expansion(xml):
    with pytest.raises(ParseError, match="refused XML"):
        parse_body(xml, {"format": "xml"})


def test_unreadable_bodies_say_why():
    with pytest.raises(ParseError, match="invalid JSON at line 1, column"):
        parse_body(b"{nope", {"format": "json"})
    with pytest.raises(ParseError, match="not UTF-8"):
        parse_body(b"\xff\xfe", {"format": "json"})
    with pytest.raises(ParseError, match="invalid XML"):
        parse_body(b"<a><b></a>", {"format": "xml"})
