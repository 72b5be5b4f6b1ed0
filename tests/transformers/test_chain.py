"""Chains: validation of settings, order, saved transformers, and errors that say where."""
import pytest

from connections.models import Transformer
from connections.transformers import (
    KINDS,
    TransformError,
    apply_chain,
    apply_transformers,
    compile_chain,
    trace_chain,
    validate_steps,
)


def test_validate_steps_lists_every_problem_by_step():
    errors = validate_steps([
        {"kind": "copy", "settings": {"source": "a", "target": "b"}},
        {"kind": "teleport", "settings": {}},
        {"kind": "cast", "settings": {"key": "price"}},
        {"kind": "cast", "settings": {"key": "price", "to": "money"}},
        {"kind": "filter", "settings": {"conditions": [{"key": "s", "op": "in", "value": "open"}]}},
        {"kind": "value_setter", "settings": {"key": "a..b", "value": 1}},
        {"kind": "copy", "settings": {"source": "a", "target": "b", "on_missing": "default"}},
        "copy",
    ])
    assert errors == [
        f'Step 2 (teleport): unknown kind "teleport"; use one of {", ".join(KINDS)}.',
        'Step 3 (Cast): "To" is required (setting "to").',
        'Step 4 (Cast): "To" must be one of string, number, integer, bool, date, not "money".',
        'Step 5 (Filter): condition 1: "in" needs a list as its value, e.g. ["open", "paid"].',
        'Step 6 (Value setter): "Key": "a..b" is not a valid key; use dots between names, e.g. customer.id.',
        'Step 7 (Copy key): "Use the default" needs a Default value.',
        'Step 8 (?): must be an object like {"kind": "copy", "settings": {...}}.',
    ]
    assert validate_steps([]) == []
    assert validate_steps({"kind": "copy"}) == ["Steps must be a list."]


def test_running_invalid_settings_names_the_step():
    with pytest.raises(TransformError) as exc:
        apply_chain([{"kind": "copy", "settings": {"source": "a", "target": "b"}},
                     {"kind": "filter", "settings": {"conditions": []}}], {"a": 1})
    assert exc.value.step_index == 1 and exc.value.step_label == "step 2 (Filter)"
    assert "at least one condition" in str(exc.value)


def test_steps_run_in_order():
    steps = [{"kind": "move", "settings": {"source": "a", "target": "b"}},
             {"kind": "cast", "settings": {"key": "b", "to": "integer"}}]
    assert apply_chain(steps, {"a": "5"}) == [{"b": 5}]
    with pytest.raises(TransformError) as exc:  # reversed, step 1 reads a key that is not there yet
        apply_chain(list(reversed(steps)), {"a": "5"})
    assert exc.value.step_index == 0 and exc.value.key == "b"


def test_compiled_chain_is_reusable_across_entities():
    chain = compile_chain([{"kind": "get_branches", "settings": {"key": "lines", "keep": ["id"]}}])
    assert chain({"id": 1, "lines": [{"a": 1}]}) == [{"a": 1, "id": 1}]
    assert chain({"id": 2, "lines": [{"a": 2}, {"a": 3}]}) == [{"a": 2, "id": 2}, {"a": 3, "id": 2}]


@pytest.mark.django_db
def test_apply_transformers_chains_saved_transformers_and_names_the_failing_one():
    split = Transformer.objects.create(name="Split lines", identifier="split-lines", steps=[
        {"kind": "get_branches", "settings": {"key": "lines", "keep": ["id"], "parent_key": "order"}}])
    shape = Transformer.objects.create(name="Shape payload", identifier="shape-payload", steps=[
        {"kind": "cast", "settings": {"key": "qty", "to": "integer"}},
        {"kind": "value_setter", "settings": {"key": "payload", "value": {"sku": "&{sku}", "amount": "&{qty}",
                                                                           "order": "&{order.id}"}}}])
    out = apply_transformers([split, shape], {"id": 9, "lines": [{"sku": "A", "qty": "2"}, {"sku": "B", "qty": "1"}]})
    assert [o["payload"] for o in out] == [{"sku": "A", "amount": 2, "order": 9}, {"sku": "B", "amount": 1, "order": 9}]

    with pytest.raises(TransformError) as exc:
        apply_transformers([split, shape], {"id": 9, "lines": [{"sku": "A", "qty": "two"}]})
    err = exc.value
    assert err.transformer == "Shape payload" and err.step_label == "step 1 (Cast)" and err.key == "qty"
    assert str(err).startswith('Transformer "Shape payload", step 1 (Cast), key "qty": cannot cast "two"')


def test_trace_counts_entities_after_each_step():
    steps = [{"kind": "get_branches", "settings": {"key": "lines"}},
             {"kind": "filter", "settings": {"conditions": [{"key": "qty", "op": "gt", "value": 1}]}}]
    outputs, counts = trace_chain(steps, [{"lines": [{"qty": 1}, {"qty": 2}, {"qty": 3}]}, {"lines": [{"qty": 5}]}])
    assert outputs == [{"qty": 2}, {"qty": 3}, {"qty": 5}]
    assert counts == [("step 1 (Get branches)", 4), ("step 2 (Filter)", 3)]
