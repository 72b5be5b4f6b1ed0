"""Pagination strategies, by the names entities carry in `Entity.pagination`.

Every strategy answers the same three questions, so `ClientSession.paginate` needs no
platform knowledge:

- `first(request)`: the first page's request (query parameters or POST body);
- `records(response)`: the raw records of one page, in the platform's response shape;
- `next(request, response, raw_count)`: the next page's request, or None at the end.

`raw_count` is the number of records the platform returned on that page, counted before any
filtering, so a filter that drops records can never end paging early.

Adding a style: subclass `Strategy`, then add an instance to STRATEGIES under the name the
platform module uses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit


class PageShapeError(ValueError):
    """A page did not have the shape the strategy expects (the HTTP seam adds url and page)."""


class Response(Protocol):
    """What a strategy reads from a response (clients.sending.ApiResponse has it)."""

    data: Any
    headers: Any
    url: str


@dataclass(frozen=True)
class PageRequest:
    """One page's request. `url` may change between pages (ConnectWise's next link)."""

    method: str
    url: str
    params: dict = field(default_factory=dict)
    json: Any = None


def _int(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PageShapeError(f"{name} must be a whole number, got {value!r}") from None


def _size(value: Any, name: str, default: int, maximum: int) -> int:
    """A page size as asked (`default` when not given), kept within 1..maximum."""
    return max(1, min(_int(value, name, default), maximum))


def _json_body(request: PageRequest, label: str) -> dict:
    """A copy of the request's JSON body, for the styles that page inside it."""
    if request.json is None:
        return {}
    if not isinstance(request.json, dict):
        raise PageShapeError(f"{label} must be a JSON object to page through it")
    return dict(request.json)


def bare_list(response: Response) -> list:
    """Records of an API that answers a list request with a bare JSON array."""
    data = response.data
    if data is None:  # 204 or an empty body: nothing (more) to read
        return []
    if not isinstance(data, list):
        raise PageShapeError(f"expected a JSON array of records, got a JSON {type(data).__name__}")
    return data


def enveloped_list(response: Response, key: str = "data") -> list:
    """Records under `key` of a JSON object (Pipedrive: {"success", "data", "additional_data"})."""
    body = response.data
    if not isinstance(body, dict):
        raise PageShapeError(f"expected a JSON object with {key!r}, got a JSON {type(body).__name__}")
    data = body.get(key)
    if data is None:  # Pipedrive sends "data": null for an empty collection
        return []
    if not isinstance(data, list):
        raise PageShapeError(f"expected {key!r} to be a list of records, got a JSON {type(data).__name__}")
    return data


class Strategy:
    """Base: one page, no next page. Subclasses override what they need."""

    # Key of the JSON object that wraps records in this style's responses (Pipedrive: "data").
    envelope: ClassVar[str | None] = None

    def first(self, request: PageRequest) -> PageRequest:
        return request

    def records(self, response: Response) -> list:
        return bare_list(response)

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        return None


@dataclass
class QueryOffset(Strategy):
    """`offset` (+ optional `limit`) in the query string; a short page is the last one."""

    offset_param: str = "offset"
    limit_param: str | None = "limit"
    default_size: int = 100
    max_size: int = 100

    def size(self, request: PageRequest) -> int:
        if self.limit_param is None:
            return self.default_size  # fixed by the API (Picqer: always 100)
        return _size(request.params.get(self.limit_param), self.limit_param, self.default_size, self.max_size)

    def first(self, request: PageRequest) -> PageRequest:
        params = dict(request.params)
        params[self.offset_param] = _int(params.get(self.offset_param), self.offset_param, 0)
        if self.limit_param:
            params[self.limit_param] = self.size(request)
        return replace(request, params=params)

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        if raw_count < self.size(request):
            return None
        params = dict(request.params)
        params[self.offset_param] = int(params[self.offset_param]) + raw_count
        return replace(request, params=params)


@dataclass
class QueryPage(Strategy):
    """`page` (1-based) and a page size in the query string; a short page is the last one."""

    page_param: str = "page"
    size_param: str = "per_page"
    default_size: int = 100
    max_size: int = 1000

    def size(self, request: PageRequest) -> int:
        return _size(request.params.get(self.size_param), self.size_param, self.default_size, self.max_size)

    def first(self, request: PageRequest) -> PageRequest:
        params = dict(request.params)
        params[self.page_param] = _int(params.get(self.page_param), self.page_param, 1)
        params[self.size_param] = self.size(request)
        return replace(request, params=params)

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        if raw_count < self.size(request):
            return None
        params = dict(request.params)
        params[self.page_param] = int(params[self.page_param]) + 1
        return replace(request, params=params)


_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]*)*)')


def next_link(link_header: str | None) -> str | None:
    """The URL marked rel="next" in an RFC 8288 Link header, if any."""
    if not link_header:
        return None
    for match in _LINK.finditer(link_header):
        url, attrs = match.group(1), match.group(2)
        for attr in attrs.split(";"):
            key, _, value = attr.strip().partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return url
    return None


@dataclass
class ConnectWisePage(QueryPage):
    """ConnectWise: page/pageSize (hard maximum 1000) and a `Link: <...>; rel="next"` header.

    With a Link header, its rel="next" URL is followed (only on the same host: credentials
    must never go elsewhere); no rel="next" ends the list. Without a Link header at all, a
    short page ends it, as with the other page styles.
    """

    page_param: str = "page"
    size_param: str = "pageSize"
    default_size: int = 1000
    max_size: int = 1000

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        if raw_count == 0:
            return None
        link = response.headers.get("Link") if response.headers else None
        if link is None:
            return super().next(request, response, raw_count)
        url = next_link(link)
        if url is None:
            return None
        here, there = urlsplit(response.url or request.url), urlsplit(url)
        if not there.scheme:  # a relative link: resolve against the current host
            url = f"{here.scheme}://{here.netloc}{url if url.startswith('/') else '/' + url}"
        elif (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise PageShapeError(f"the next-page link points to another host ({there.netloc}); not following it")
        return replace(request, url=url, params={})


@dataclass
class _Pipedrive(Strategy):
    """What both Pipedrive styles share: records under "data", `limit` (1..500) in the query."""

    envelope: ClassVar[str | None] = "data"
    default_size: int = 100
    max_size: int = 500

    def records(self, response: Response) -> list:
        return enveloped_list(response, "data")

    def first(self, request: PageRequest) -> PageRequest:
        params = dict(request.params)
        params["limit"] = _size(params.get("limit"), "limit", self.default_size, self.max_size)
        return replace(request, params=params)

    @staticmethod
    def additional_data(response: Response) -> dict:
        return (response.data or {}).get("additional_data") or {}


@dataclass
class PipedriveStart(_Pipedrive):
    """Pipedrive v1: start/limit; more_items_in_collection and next_start say what comes next."""

    def first(self, request: PageRequest) -> PageRequest:
        params = dict(request.params)
        params["start"] = _int(params.get("start"), "start", 0)
        return super().first(replace(request, params=params))

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        pagination = self.additional_data(response).get("pagination") or {}
        if not pagination.get("more_items_in_collection"):
            return None
        next_start = pagination.get("next_start")
        if next_start is None:
            next_start = int(request.params["start"]) + raw_count
        params = dict(request.params)
        params["start"] = _int(next_start, "next_start", 0)
        return replace(request, params=params)


@dataclass
class PipedriveCursor(_Pipedrive):
    """Pipedrive v2 (and some v1 collections): cursor/limit; additional_data.next_cursor is null at the end."""

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        cursor = self.additional_data(response).get("next_cursor")
        if not cursor:
            return None
        params = dict(request.params)
        params["cursor"] = cursor
        return replace(request, params=params)


@dataclass
class CopperSearch(Strategy):
    """Copper: page_number/page_size (1..200) in the POST search body; a short page is the last one."""

    default_size: int = 200
    max_size: int = 200

    def _body(self, request: PageRequest) -> dict:
        return _json_body(request, "a Copper search body")

    def size(self, request: PageRequest) -> int:
        return _size(self._body(request).get("page_size"), "page_size", self.default_size, self.max_size)

    def first(self, request: PageRequest) -> PageRequest:
        body = self._body(request)
        body["page_size"] = self.size(request)
        body["page_number"] = _int(body.get("page_number"), "page_number", 1)
        return replace(request, json=body)

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        if raw_count < self.size(request):
            return None
        body = self._body(request)
        body["page_number"] = int(body["page_number"]) + 1
        return replace(request, json=body)


@dataclass
class BodyOffset(Strategy):
    """`offset`/`limit` inside a JSON request body (Timely's "Filter reports", a POST that reads).

    A short or empty page is the last one. A `page` the caller put in the body is turned into
    the starting offset and dropped, so the platform never sees two positions that disagree.
    An answer that is a JSON object rather than an array is one record and ends paging: the
    platform then did not return a list to page through (the way it was read before paging).
    """

    offset_key: str = "offset"
    limit_key: str = "limit"
    page_key: str | None = "page"
    default_size: int = 100
    max_size: int = 100
    label: str = "the request body"

    def _body(self, request: PageRequest) -> dict:
        return _json_body(request, self.label)

    def size(self, request: PageRequest) -> int:
        return _size(self._body(request).get(self.limit_key), self.limit_key, self.default_size, self.max_size)

    def first(self, request: PageRequest) -> PageRequest:
        body = self._body(request)
        size = self.size(request)
        page = body.pop(self.page_key, None) if self.page_key else None
        start = max(0, (_int(page, self.page_key or "page", 1) - 1) * size)
        body[self.offset_key] = max(0, _int(body.get(self.offset_key), self.offset_key, start))
        body[self.limit_key] = size
        return replace(request, json=body)

    def records(self, response: Response) -> list:
        if isinstance(response.data, dict):
            return [response.data]
        return bare_list(response)

    def next(self, request: PageRequest, response: Response, raw_count: int) -> PageRequest | None:
        if not isinstance(response.data, list) or raw_count < self.size(request):
            return None
        body = self._body(request)
        body[self.offset_key] = int(body[self.offset_key]) + raw_count
        return replace(request, json=body)


@dataclass
class Single(Strategy):
    """An entity without pagination: one request, whatever it returns as records.

    A list is the records; one object (e.g. "Get single customer") is one record; with an
    envelope (Pipedrive's {"data": ...}) the records are read from inside it.
    """

    unwrap: str | None = None

    def records(self, response: Response) -> list:
        data = response.data
        if self.unwrap and isinstance(data, dict) and self.unwrap in data:
            data = data[self.unwrap]
        if data is None:
            return []
        return data if isinstance(data, list) else [data]


STRATEGIES: dict[str, Strategy] = {
    "offset100": QueryOffset(limit_param=None, default_size=100, max_size=100),
    "pipedrive_start": PipedriveStart(),
    "pipedrive_cursor": PipedriveCursor(),
    "connectwise_page": ConnectWisePage(),
    "timely_page": QueryPage(page_param="page", size_param="per_page", default_size=100, max_size=1000),
    "timely_offset": QueryOffset(offset_param="offset", limit_param="limit", default_size=100, max_size=1000),
    "copper_search": CopperSearch(),
    # Filter reports: offset/limit in the POST body, limit at most 100 (Timely's docs).
    "timely_body_offset": BodyOffset(default_size=100, max_size=100, label="a Timely report filter"),
}


def get_strategy(name: str | None, platform_default: str | None = None) -> Strategy:
    """The strategy named `name`; an entity without pagination reads one page.

    `platform_default` (Platform.default_pagination) says how that platform wraps records, so
    a single read of Pipedrive unwraps {"data": ...} like its paged reads do.
    """
    if not name:
        default = STRATEGIES.get(platform_default or "")
        return Single(unwrap=default.envelope if default else None)
    try:
        return STRATEGIES[name]
    except KeyError:
        raise PageShapeError(f"unknown pagination strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
