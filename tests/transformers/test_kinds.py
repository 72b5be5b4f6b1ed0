"""Each transformer kind: what it does, and the clear error it gives on bad data or settings."""
import pytest

from connections.transformers import KINDS, TransformError, apply_chain, get_path, render_template


def step(kind: str, **settings) -> dict:
    return {"kind": kind, "settings": settings}


def run(entity, *steps):
    return apply_chain(list(steps), entity)


ORDER = {
    "id": 7,
    "name": "Ann Smith",
    "customer": {"id": 3, "email": "ann@example.com"},
    "status": "open",
    "lines": [{"sku": "A-1", "qty": "2"}, {"sku": "B-2", "qty": "1"}],
    "total": "12.50",
}


# ----------------------------------------------------------------------------------------- paths

def test_dotted_paths_read_list_items():
    assert get_path(ORDER, "lines.1.sku") == "B-2"
    assert get_path(ORDER, "customer.id") == 3


def test_missing_path_error_names_the_key_and_what_is_there():
    with pytest.raises(TransformError) as exc:
        get_path(ORDER, "customer.phone")
    assert exc.value.key == "customer.phone"
    assert "email" in str(exc.value) and "id" in str(exc.value)


# ---------------------------------------------------------------------------------- value setter

def test_value_setter_builds_a_publisher_payload_and_path():
    [out] = run(ORDER, step("value_setter", key="payload.name", value="&{name}"),
                step("value_setter", key="path.idcustomer", value="&{id}"))
    assert out["payload"] == {"name": "Ann Smith"}
    assert out["path"] == {"idcustomer": 7}  # a lone placeholder keeps the number type


def test_value_setter_template_with_text_and_nested_object():
    [out] = run(ORDER, step("value_setter", key="payload", value={"email": "&{customer.email}",
                                                                 "label": "#&{id} &{name}", "n": 1}))
    assert out["payload"] == {"email": "ann@example.com", "label": "#7 Ann Smith", "n": 1}


def test_value_setter_constant_and_list_index_write():
    [out] = run(ORDER, step("value_setter", key="lines.0.sku", value="Z-9"))
    assert out["lines"][0]["sku"] == "Z-9" and ORDER["lines"][0]["sku"] == "A-1"


def test_value_setter_missing_placeholder_is_a_clear_error():
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("copy", source="id", target="x"), step("value_setter", key="a", value="&{customer.phone}"))
    err = exc.value
    assert err.step_index == 1 and err.step_label == "step 2 (Value setter)" and err.key == "customer.phone"
    assert str(err).startswith('Step 2 (Value setter), key "customer.phone"')
    assert "Skip this step" in str(err)  # says what to do


def test_value_setter_missing_placeholder_skip_and_default():
    assert run(ORDER, step("value_setter", key="a", value="&{nope}", on_missing="skip")) == [ORDER]
    [out] = run(ORDER, step("value_setter", key="a", value="&{nope}", on_missing="default", default="n/a"))
    assert out["a"] == "n/a"


def test_writing_inside_a_scalar_is_a_clear_error():
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("value_setter", key="name.first", value="x"))
    assert exc.value.key == "name.first" and "holds a string" in str(exc.value)


def test_render_template_keeps_types():
    assert render_template("&{customer}", ORDER) == {"id": 3, "email": "ann@example.com"}
    assert render_template("id=&{id}", ORDER) == "id=7"


# -------------------------------------------------------------------------------- copy, move, remove

def test_copy_keeps_the_source():
    [out] = run(ORDER, step("copy", source="customer.email", target="payload.email"))
    assert out["payload"]["email"] == out["customer"]["email"] == "ann@example.com"


def test_move_renames():
    [out] = run(ORDER, step("move", source="customer.email", target="email"))
    assert out["email"] == "ann@example.com" and "email" not in out["customer"]
    assert ORDER["customer"]["email"] == "ann@example.com"


def test_move_missing_with_default_and_error():
    [out] = run(ORDER, step("move", source="phone", target="tel", on_missing="default", default=None))
    assert out["tel"] is None
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("move", source="phone", target="tel"))
    assert exc.value.key == "phone" and exc.value.step_label == "step 1 (Move key)"


def test_remove_skips_absent_keys_by_default_and_errors_when_asked():
    [out] = run(ORDER, step("remove", keys=["status", "nope", "lines.0"]))
    assert "status" not in out and out["lines"] == [{"sku": "B-2", "qty": "1"}]
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("remove", keys=["nope"], on_missing="error"))
    assert exc.value.key == "nope"


# -------------------------------------------------------------------------------------- mappers

def test_key_mapper_renames_and_drops_unmapped_when_asked():
    [out] = run(ORDER, step("key_mapper", mapping={"email": "mail"}, key="customer"))
    assert out["customer"] == {"id": 3, "mail": "ann@example.com"}
    [out] = run({"a": 1, "b": 2}, step("key_mapper", mapping={"a": "x"}, keep_unmapped=False))
    assert out == {"x": 1}


def test_key_mapper_on_a_non_object_is_a_clear_error():
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("key_mapper", mapping={"a": "b"}, key="lines"))
    assert exc.value.key == "lines" and "object" in str(exc.value)


def test_value_mapper_with_default_and_without():
    mapping = {"open": "active", "closed": "archived"}
    [out] = run(ORDER, step("value_mapper", key="status", mapping=mapping))
    assert out["status"] == "active"
    [out] = run({"status": "weird"}, step("value_mapper", key="status", mapping=mapping, unmapped="unknown"))
    assert out["status"] == "unknown"
    [out] = run({"status": "weird"}, step("value_mapper", key="status", mapping=mapping))
    assert out["status"] == "weird"


def test_value_mapper_matches_numbers_and_booleans_by_their_json_spelling():
    [out] = run({"paid": True, "code": 2}, step("value_mapper", key="paid", mapping={"true": "yes"}),
                step("value_mapper", key="code", mapping={"2": "two"}))
    assert out == {"paid": "yes", "code": "two"}


# ----------------------------------------------------------------------------------------- cast

@pytest.mark.parametrize(("value", "to", "expected"), [
    ("12.50", "number", 12.5), ("12", "number", 12), (3, "string", "3"), (True, "string", "true"),
    ("7", "integer", 7), (7.0, "integer", 7), ("yes", "bool", True), ("0", "bool", False), (None, "number", None),
    ({"a": 1}, "string", '{"a": 1}'),
])
def test_cast(value, to, expected):
    [out] = run({"v": value}, step("cast", key="v", to=to))
    assert out["v"] == expected and type(out["v"]) is type(expected)


def test_cast_abc_to_number_is_a_clear_error():
    with pytest.raises(TransformError) as exc:
        run({"price": "abc"}, step("cast", key="price", to="number"))
    err = exc.value
    assert err.key == "price" and err.step_label == "step 1 (Cast)"
    assert str(err) == ('Step 1 (Cast), key "price": cannot cast "abc" to a number. Fix the data, or put a value '
                        "mapper or filter step before this one for such values.")


def test_cast_fraction_to_integer_and_bad_bool_are_errors():
    with pytest.raises(TransformError, match="fraction"):
        run({"v": "2.5"}, step("cast", key="v", to="integer"))
    with pytest.raises(TransformError, match="boolean"):
        run({"v": "maybe"}, step("cast", key="v", to="bool"))


def test_cast_dates():
    [out] = run({"d": "31-05-2024"}, step("cast", key="d", to="date", input_format="%d-%m-%Y"))
    assert out["d"] == "2024-05-31"
    [out] = run({"d": "2024-05-31T12:00:00Z"}, step("cast", key="d", to="date", output_format="timestamp"))
    assert out["d"] == 1717156800
    [out] = run({"d": 1717156800}, step("cast", key="d", to="date", output_format="%d/%m/%Y %H:%M"))
    assert out["d"] == "31/05/2024 12:00"
    with pytest.raises(TransformError) as exc:
        run({"d": "yesterday"}, step("cast", key="d", to="date"))
    assert exc.value.key == "d" and "input format" in str(exc.value)
    for huge in (253402300800.0, 10**20, float("inf"), float("nan")):  # a step error, not a crash of the tester
        with pytest.raises(TransformError, match="not a Unix timestamp") as exc:
            run({"d": huge}, step("cast", key="d", to="date"))
        assert exc.value.key == "d"


# ---------------------------------------------------------------------------------------- filter

def cond(key, op, value=None):
    return {"key": key, "op": op, "value": value}


@pytest.mark.parametrize(("condition", "kept"), [
    (cond("status", "equals", "open"), True),
    (cond("status", "not_equals", "open"), False),
    (cond("name", "contains", "Smith"), True),
    (cond("customer.email", "exists"), True),
    (cond("customer.phone", "exists"), False),
    (cond("customer.phone", "not_exists"), True),
    (cond("total", "gt", 10), True),
    (cond("total", "lte", 10), False),
    (cond("id", "in", [1, 7]), True),
    (cond("id", "not_in", [1, 7]), False),
    (cond("lines.0.sku", "lt", "B"), True),
])
def test_filter_operators(condition, kept):
    assert run(ORDER, step("filter", conditions=[condition])) == ([ORDER] if kept else [])


def test_filter_all_any_and_drop():
    conditions = [cond("status", "equals", "open"), cond("id", "equals", 99)]
    assert run(ORDER, step("filter", conditions=conditions)) == []
    assert run(ORDER, step("filter", conditions=conditions, match="any")) == [ORDER]
    assert run(ORDER, step("filter", conditions=conditions, match="any", action="drop")) == []


def test_filter_contains_on_a_list_and_true_is_not_one():
    assert run({"tags": ["a", "b"]}, step("filter", conditions=[cond("tags", "contains", "b")])) != []
    assert run({"v": True}, step("filter", conditions=[cond("v", "equals", 1)])) == []


def test_filter_on_a_non_list_is_a_clear_error():
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("copy", source="id", target="n"), step("filter", conditions=[cond("id", "contains", 7)]))
    err = exc.value
    assert err.step_label == "step 2 (Filter)" and err.key == "id" and "needs a list or a text" in str(err)


def test_filter_missing_key_error_or_no_match():
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("filter", conditions=[cond("phone", "equals", "1")]))
    assert exc.value.key == "phone" and '"exists" condition' in str(exc.value)
    assert run(ORDER, step("filter", conditions=[cond("phone", "equals", "1")], on_missing="skip")) == []


def test_filter_comparing_text_with_a_number_is_an_error():
    with pytest.raises(TransformError, match="cannot compare"):
        run(ORDER, step("filter", conditions=[cond("name", "gt", 3)]))


def test_filter_stops_the_chain():
    steps = [step("filter", conditions=[cond("status", "equals", "closed")]), step("cast", key="nope", to="number")]
    assert run(ORDER, *steps) == []


# ---------------------------------------------------------------------------------- get branches

def test_get_branches_one_entity_per_item_keeping_parent_keys():
    out = run(ORDER, step("get_branches", key="lines", keep=["id", "customer.id"], parent_key="order"))
    assert out == [
        {"sku": "A-1", "qty": "2", "order": {"id": 7, "customer": {"id": 3}}},
        {"sku": "B-2", "qty": "1", "order": {"id": 7, "customer": {"id": 3}}},
    ]


def test_get_branches_scalars_empty_and_then_more_steps():
    assert run({"tags": []}, step("get_branches", key="tags")) == []
    out = run({"id": 1, "tags": ["a", "b"]}, step("get_branches", key="tags", keep=["id"]),
              step("value_setter", key="label", value="&{id}-&{value}"))
    assert [o["label"] for o in out] == ["1-a", "1-b"]


def test_get_branches_on_a_non_list_is_a_clear_error():
    with pytest.raises(TransformError) as exc:
        run(ORDER, step("get_branches", key="customer"))
    assert exc.value.key == "customer" and "not a list" in str(exc.value)


# -------------------------------------------------------------------------------- merge defaults

def test_merge_defaults_is_deep_and_existing_values_win():
    [out] = run(ORDER, step("merge_defaults", defaults={"customer": {"email": "x", "vip": False}, "currency": "EUR"}))
    assert out["customer"] == {"id": 3, "email": "ann@example.com", "vip": False}
    assert out["currency"] == "EUR"
    assert "vip" not in ORDER["customer"]


def test_merge_defaults_into_a_missing_object():
    [out] = run({}, step("merge_defaults", defaults={"a": 1}, key="payload"))
    assert out == {"payload": {"a": 1}}


# ---------------------------------------------------------------------------------- the registry

def test_every_kind_has_a_label_fields_and_a_pure_function():
    for key, kind in KINDS.items():
        assert kind.key == key and kind.label and kind.fields
        for f in kind.fields:
            assert f.name and f.label and f.type
    assert KINDS["copy"].func({"a": 1}, {"source": "a", "target": "b"}) == [{"a": 1, "b": 1}]


def test_input_must_be_an_object():
    with pytest.raises(TransformError, match="JSON object"):
        apply_chain([], [1, 2])
