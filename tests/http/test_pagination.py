"""Each pagination strategy over several pages, its end signal, the page cap and raw counts (unit, `responses`)."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from clients.http import InvalidResponse, PaginationLimit
from clients.pagination import STRATEGIES, PageRequest, PageShapeError, next_link

from .helpers import BASES, make_client, session

pytestmark = pytest.mark.django_db


def rows(start, count):
    return [{"id": i, "keep": i % 2 == 0} for i in range(start, start + count)]


def query(request):
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}


@responses.activate
def test_picqer_offset100_pages_until_a_short_page():
    url = BASES["picqer"] + "/customers"

    def reply(request):
        offset = int(query(request)["offset"])
        return 200, {}, json.dumps(rows(offset, 100 if offset < 300 else 7))

    responses.add_callback(responses.GET, url, callback=reply)
    s, _ = session(make_client("picqer"))
    pages = list(s.paginate("GET /customers"))
    assert [p.raw_count for p in pages] == [100, 100, 100, 7]
    assert [query(c.request)["offset"] for c in responses.calls] == ["0", "100", "200", "300"]
    assert [p.number for p in pages] == [1, 2, 3, 4]


@responses.activate
def test_picqer_exact_multiple_ends_on_an_empty_page():
    url = BASES["picqer"] + "/customers"
    responses.add_callback(
        responses.GET, url,
        callback=lambda r: (200, {}, json.dumps(rows(0, 100) if int(query(r)["offset"]) < 300 else [])),
    )
    s, _ = session(make_client("picqer"))
    pages = list(s.paginate("Get all customers"))
    assert [p.raw_count for p in pages] == [100, 100, 100, 0]
    assert pages[-1].records == []


@responses.activate
def test_filtered_page_counts_raw_records_and_keeps_paging():
    """A filter that drops every record of a page must not end paging: the raw count decides."""
    url = BASES["picqer"] + "/customers"

    def reply(request):
        offset = int(query(request)["offset"])
        if offset == 0:
            data = [{"id": i, "keep": False} for i in range(100)]
        else:
            data = rows(offset, 100 if offset < 200 else 3)
        return 200, {}, json.dumps(data)

    responses.add_callback(responses.GET, url, callback=reply)
    s, _ = session(make_client("picqer"))
    pages = list(s.paginate("GET /customers", keep=lambda r: r["keep"]))
    assert [p.raw_count for p in pages] == [100, 100, 3]
    assert [len(p.records) for p in pages] == [0, 50, 2]


@responses.activate
def test_pipedrive_start_follows_next_start_until_no_more_items():
    url = BASES["pipedrive"] + "/v1/notes"

    def reply(request):
        start = int(query(request)["start"])
        more = start < 200
        pagination = {"start": start, "limit": 100, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + 100
        data = rows(start, 100) if more else None  # Pipedrive sends data: null when empty
        return 200, {}, json.dumps({"success": True, "data": data, "additional_data": {"pagination": pagination}})

    responses.add_callback(responses.GET, url, callback=reply)
    s, _ = session(make_client("pipedrive"))
    pages = list(s.paginate("GET /v1/notes"))
    assert [p.raw_count for p in pages] == [100, 100, 0]
    assert [query(c.request)["start"] for c in responses.calls] == ["0", "100", "200"]
    assert all(query(c.request)["limit"] == "100" for c in responses.calls)


@responses.activate
def test_pipedrive_cursor_until_next_cursor_is_null():
    url = BASES["pipedrive"] + "/v2/deals"
    cursors = {None: ("c1", 0), "c1": ("c2", 100), "c2": ("c3", 200), "c3": (None, 300)}

    def reply(request):
        following, start = cursors[query(request).get("cursor")]
        data = rows(start, 100) if following else []
        return 200, {}, json.dumps({"success": True, "data": data, "additional_data": {"next_cursor": following}})

    responses.add_callback(responses.GET, url, callback=reply)
    s, _ = session(make_client("pipedrive"))
    pages = list(s.paginate("GET /v2/deals", query={"limit": 100}))
    assert [p.raw_count for p in pages] == [100, 100, 100, 0]
    assert [query(c.request).get("cursor") for c in responses.calls] == [None, "c1", "c2", "c3"]


@responses.activate
def test_connectwise_follows_link_rel_next_and_stops_without_it():
    url = BASES["connectwise"] + "/company/companies"

    def reply(request):
        page = int(query(request)["page"])
        headers = {}
        if page < 3:
            headers["Link"] = (
                f'<{url}?pageSize=1000&page={page + 1}>; rel="next", <{url}?pageSize=1000&page=4>; rel="last"'
            )
        else:
            headers["Link"] = f'<{url}?pageSize=1000&page=3>; rel="last"'
        return 200, headers, json.dumps(rows(page * 1000, 1000))

    responses.add_callback(responses.GET, url, callback=reply)
    s, _ = session(make_client("connectwise"))
    pages = list(s.paginate("GET /company/companies"))
    assert [p.raw_count for p in pages] == [1000, 1000, 1000]
    assert [query(c.request)["page"] for c in responses.calls] == ["1", "2", "3"]


@responses.activate
def test_connectwise_without_link_header_ends_on_empty_page():
    url = BASES["connectwise"] + "/company/companies"
    responses.add_callback(
        responses.GET, url,
        callback=lambda r: (200, {}, json.dumps(rows(0, 10) if int(query(r)["page"]) < 4 else [])),
    )
    s, _ = session(make_client("connectwise"))
    pages = list(s.paginate("GET /company/companies", query={"pageSize": 10}))
    assert [p.raw_count for p in pages] == [10, 10, 10, 0]


@responses.activate
def test_connectwise_refuses_a_next_link_to_another_host():
    url = BASES["connectwise"] + "/company/companies"
    responses.add(responses.GET, url, json=rows(0, 5), headers={"Link": '<https://evil.test/steal?page=2>; rel="next"'})
    s, _ = session(make_client("connectwise"))
    with pytest.raises(InvalidResponse, match="another host"):
        list(s.paginate("GET /company/companies", query={"pageSize": 5}))
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("key", "style"),
    [("GET /1.1/{account_id}/events", "page"), ("GET /1.1/{account_id}/clients", "offset")],
)
@responses.activate
def test_timely_page_and_offset_styles_end_on_a_short_page(key, style):
    url = BASES["timely"] + "/1.1/61234/" + key.rsplit("/", 1)[1]

    def reply(request):
        q = query(request)
        start = (int(q["page"]) - 1) * int(q["per_page"]) if style == "page" else int(q["offset"])
        return 200, {}, json.dumps(rows(start, 100 if start < 300 else 40))

    responses.add_callback(responses.GET, url, callback=reply)
    s, _ = session(make_client("timely"))
    pages = list(s.paginate(key, path={"account_id": 61234}))
    assert [p.raw_count for p in pages] == [100, 100, 100, 40]
    sent = [query(c.request) for c in responses.calls]
    if style == "page":
        assert [q["page"] for q in sent] == ["1", "2", "3", "4"] and sent[0]["per_page"] == "100"
    else:
        assert [q["offset"] for q in sent] == ["0", "100", "200", "300"] and sent[0]["limit"] == "100"


@responses.activate
def test_copper_search_pages_in_the_post_body():
    url = BASES["copper"] + "/companies/search"

    def reply(request):
        body = json.loads(request.body)
        start = (body["page_number"] - 1) * body["page_size"]
        return 200, {"X-PW-TOTAL": "450"}, json.dumps(rows(start, 200 if start < 400 else 50))

    responses.add_callback(responses.POST, url, callback=reply)
    s, _ = session(make_client("copper"))
    pages = list(s.paginate("POST /companies/search", payload={"sort_by": "date_modified", "page_size": 999}))
    assert [p.raw_count for p in pages] == [200, 200, 50]
    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert [b["page_number"] for b in bodies] == [1, 2, 3]
    assert all(b["page_size"] == 200 and b["sort_by"] == "date_modified" for b in bodies)  # clamped to 200


@responses.activate
def test_page_cap_stops_an_api_that_never_ends():
    url = BASES["picqer"] + "/customers"
    responses.add_callback(responses.GET, url, callback=lambda r: (200, {}, json.dumps(rows(0, 100))))
    s, _ = session(make_client("picqer"))
    seen = []
    with pytest.raises(PaginationLimit) as caught:
        for page in s.paginate("GET /customers", page_cap=5):
            seen.append(page.number)
    assert seen == [1, 2, 3, 4, 5]
    assert len(responses.calls) == 5
    assert "page cap (5)" in str(caught.value)


@responses.activate
def test_page_cap_defaults_to_the_setting(settings):
    settings.PAGINATION_PAGE_CAP = 3
    url = BASES["picqer"] + "/customers"
    responses.add_callback(responses.GET, url, callback=lambda r: (200, {}, json.dumps(rows(0, 100))))
    s, _ = session(make_client("picqer"))
    with pytest.raises(PaginationLimit, match="page cap \\(3\\)"):
        list(s.paginate("GET /customers"))


@responses.activate
def test_a_cursor_that_repeats_is_refused():
    url = BASES["pipedrive"] + "/v2/deals"
    body = {"success": True, "data": rows(0, 2), "additional_data": {"next_cursor": "same"}}
    responses.add(responses.GET, url, json=body)
    s, _ = session(make_client("pipedrive"))
    with pytest.raises(InvalidResponse, match="same page"):
        list(s.paginate("GET /v2/deals"))
    assert len(responses.calls) == 2


def test_page_sizes_are_kept_within_each_styles_bounds():
    """Both Pipedrive styles clamp `limit` to 1..500 (start first, then limit); Copper's body to 1..200."""
    get = PageRequest("GET", "https://x/v1/notes")
    start = STRATEGIES["pipedrive_start"].first(get)
    assert list(start.params.items()) == [("start", 0), ("limit", 100)]
    assert STRATEGIES["pipedrive_start"].first(PageRequest("GET", "u", {"limit": "9999"})).params["limit"] == 500
    assert STRATEGIES["pipedrive_cursor"].first(PageRequest("GET", "u", {"limit": 0})).params == {"limit": 1}
    assert STRATEGIES["pipedrive_cursor"].first(get).params == {"limit": 100}
    copper = STRATEGIES["copper_search"]
    assert copper.first(PageRequest("POST", "u", json={"page_size": -3})).json == {"page_size": 1, "page_number": 1}
    with pytest.raises(PageShapeError, match="a Copper search body must be a JSON object"):
        copper.first(PageRequest("POST", "u", json=[1]))
    with pytest.raises(PageShapeError, match="limit must be a whole number"):
        STRATEGIES["pipedrive_cursor"].first(PageRequest("GET", "u", {"limit": "many"}))


@responses.activate
def test_wrong_page_shape_is_a_clear_error():
    responses.add(responses.GET, BASES["picqer"] + "/customers", json={"error": False, "data": []})
    s, _ = session(make_client("picqer"))
    with pytest.raises(InvalidResponse, match="page 1: expected a JSON array"):
        list(s.paginate("GET /customers"))


@responses.activate
def test_an_entity_without_pagination_reads_one_page():
    responses.add(responses.GET, BASES["pipedrive"] + "/v1/users/7", json={"success": True, "data": {"id": 7}})
    s, _ = session(make_client("pipedrive"))
    response = s.call("GET /v1/users/{id}", path={"id": 7})
    assert response.data["data"] == {"id": 7}


def test_next_link_parsing():
    assert next_link('<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"') == "https://a/x?page=2"
    assert next_link('<https://a/x?page=9>; rel="last"') is None
    assert next_link('<https://a/x?p=2>; rel="prev next"') == "https://a/x?p=2"
    assert next_link(None) is None


@responses.activate
def test_a_single_object_read_is_one_record():
    """The seed example: Picqer "Get single customer" through paginate (as the engine reads it)."""
    responses.add(responses.GET, BASES["picqer"] + "/customers/89338142", json={"idcustomer": 89338142})
    s, _ = session(make_client("picqer"))
    pages = list(s.paginate("Get single customer", path={"idcustomer": 89338142}))
    assert [(p.raw_count, p.records) for p in pages] == [(1, [{"idcustomer": 89338142}])]


@responses.activate
def test_a_single_pipedrive_read_is_unwrapped_from_its_envelope():
    responses.add(responses.GET, BASES["pipedrive"] + "/v1/users/22013967",
                  json={"success": True, "data": {"id": 22013967}})
    users = {"success": True, "data": [{"id": 1}, {"id": 2}]}
    responses.add(responses.GET, BASES["pipedrive"] + "/v1/users", json=users)
    s, _ = session(make_client("pipedrive"))
    assert list(s.paginate("Get one user", path={"id": 22013967}))[0].records == [{"id": 22013967}]
    assert list(s.paginate("GET /v1/users"))[0].raw_count == 2


REPORTS = "POST /1.1/{account_id}/reports/filter"


@responses.activate
def test_timely_filter_reports_pages_offset_in_the_post_body_until_an_empty_page():
    url = BASES["timely"] + "/1.1/61234/reports/filter"

    def reply(request):
        body = json.loads(request.body)
        return 200, {}, json.dumps(rows(body["offset"], 100 if body["offset"] < 300 else 0))

    responses.add_callback(responses.POST, url, callback=reply)
    s, _ = session(make_client("timely"))
    pages = list(s.paginate(REPORTS, path={"account_id": 61234}, payload={"since": "2024-01-01", "limit": 500}))
    assert [p.raw_count for p in pages] == [100, 100, 100, 0]
    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert [b["offset"] for b in bodies] == [0, 100, 200, 300]
    # The filter travels with every page; the limit is clamped to Timely's maximum of 100.
    assert all(b["since"] == "2024-01-01" and b["limit"] == 100 for b in bodies)
    assert all(urlsplit(c.request.url).query == "" for c in responses.calls)


@responses.activate
def test_timely_filter_reports_page_in_the_body_becomes_the_starting_offset():
    url = BASES["timely"] + "/1.1/61234/reports/filter"

    def reply(request):
        body = json.loads(request.body)
        return 200, {}, json.dumps(rows(body["offset"], 25 if body["offset"] < 75 else 3))

    responses.add_callback(responses.POST, url, callback=reply)
    s, _ = session(make_client("timely"))
    pages = list(s.paginate(REPORTS, path={"account_id": 61234}, payload={"page": 2, "limit": 25}))
    assert [p.raw_count for p in pages] == [25, 25, 3]
    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert [b["offset"] for b in bodies] == [25, 50, 75]
    assert all("page" not in b for b in bodies)


@responses.activate
def test_timely_filter_reports_object_answer_is_one_record_and_bad_input_is_clear():
    url = BASES["timely"] + "/1.1/61234/reports/filter"
    responses.add(responses.POST, url, json={"totals": {"hours": 12}})
    s, _ = session(make_client("timely"))
    pages = list(s.paginate(REPORTS, path={"account_id": 61234}))
    assert [(p.raw_count, p.records) for p in pages] == [(1, [{"totals": {"hours": 12}}])]
    with pytest.raises(InvalidResponse, match="offset must be a whole number"):
        list(s.paginate(REPORTS, path={"account_id": 61234}, payload={"offset": "ten"}))
    assert len(responses.calls) == 1  # the bad filter was refused before anything was sent
