"""The Conditional kind: then/else steps on conditions as the Filter kind has them."""
import pytest

from connections.transformers import TransformError, apply_chain, validate_steps

COMPANY = [{"kind": "value_setter", "settings": {"key": "type", "value": "company"}}]
PERSON = [{"kind": "value_setter", "settings": {"key": "type", "value": "person"}}]


def conditional(**settings):
    return {"kind": "conditional", "settings": {
        "conditions": [{"key": "vat", "op": "exists"}], "then_steps": COMPANY, "else_steps": PERSON, **settings}}


def test_then_or_else_by_the_conditions():
    assert apply_chain([conditional()], {"vat": "NL1"}) == [{"vat": "NL1", "type": "company"}]
    assert apply_chain([conditional()], {"name": "Ann"}) == [{"name": "Ann", "type": "person"}]


def test_an_empty_branch_passes_the_entity_and_a_filter_inside_can_drop_it():
    drop = [{"kind": "filter", "settings": {"conditions": [{"key": "vat", "op": "exists"}]}}]
    assert apply_chain([conditional(then_steps=[], else_steps=drop)], {"vat": "x"}) == [{"vat": "x"}]
    assert apply_chain([conditional(then_steps=[], else_steps=drop)], {"name": "x"}) == []


def test_an_error_inside_names_the_branch_and_its_step():
    cast = [{"kind": "cast", "settings": {"key": "vat", "to": "number"}}]
    with pytest.raises(TransformError) as exc:
        apply_chain([{"kind": "copy", "settings": {"source": "a", "target": "b", "on_missing": "skip"}},
                     conditional(then_steps=cast)], {"vat": "NL1"})
    assert str(exc.value).startswith('Step 2 (Conditional), key "vat": then step 1 (Cast): cannot cast')


def test_bad_inner_steps_are_reported_when_the_step_is_saved():
    errors = validate_steps([conditional(then_steps=[{"kind": "cast", "settings": {"key": "x"}}], else_steps=[])])
    assert errors == ['Step 1 (Conditional): then step 1 (Cast): "To" is required (setting "to").']
    assert validate_steps([conditional(then_steps=[], else_steps=[])]) == [
        "Step 1 (Conditional): add steps to run when the conditions hold, or when they do not."]


def test_nesting_has_a_limit():
    step = conditional()
    for _ in range(6):
        step = conditional(then_steps=[step])
    assert "nested more than 5 deep" in " ".join(validate_steps([step]))
