"""Properties over arbitrary JSON: every kind is pure, and copy/move/remove chains with skip never raise."""
import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connections.transformers import KINDS, TransformError, apply_chain

SEGMENTS = st.sampled_from(["a", "b", "c", "0", "1", "id", "name"])
KEYS = st.lists(SEGMENTS, min_size=1, max_size=3).map(".".join)
SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=6) | st.floats(allow_nan=False,
                                                                                                   allow_infinity=False)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SEGMENTS, inner, max_size=4),
                    max_leaves=12)
ENTITIES = st.dictionaries(SEGMENTS, JSON, max_size=5)
ON_MISSING = st.sampled_from(["error", "skip", "default"])
CONDITION = st.fixed_dictionaries({"key": KEYS, "op": st.sampled_from(
    ["equals", "not_equals", "contains", "exists", "not_exists", "gt", "lt", "in"]), "value": JSON}).map(
    lambda c: {**c, "value": [c["value"]]} if c["op"] == "in" else c)

SETTINGS = {
    "value_setter": st.fixed_dictionaries({"key": KEYS, "value": JSON | KEYS.map(lambda k: "&{" + k + "}"),
                                           "on_missing": ON_MISSING, "default": JSON}),
    "copy": st.fixed_dictionaries({"source": KEYS, "target": KEYS, "on_missing": ON_MISSING, "default": JSON}),
    "move": st.fixed_dictionaries({"source": KEYS, "target": KEYS, "on_missing": ON_MISSING, "default": JSON}),
    "remove": st.fixed_dictionaries({"keys": st.lists(KEYS, min_size=1, max_size=3),
                                     "on_missing": st.sampled_from(["error", "skip"])}),
    "key_mapper": st.fixed_dictionaries({"mapping": st.dictionaries(SEGMENTS, SEGMENTS, max_size=3),
                                         "key": st.just("") | KEYS, "keep_unmapped": st.booleans(),
                                         "on_missing": ON_MISSING, "default": JSON}),
    "value_mapper": st.fixed_dictionaries({"key": KEYS,
                                           "mapping": st.dictionaries(st.text(max_size=3), JSON, max_size=3),
                                           "unmapped": JSON, "on_missing": ON_MISSING, "default": JSON}),
    "cast": st.fixed_dictionaries({"key": KEYS, "to": st.sampled_from(["string", "number", "integer", "bool", "date"]),
                                   "on_missing": ON_MISSING, "default": JSON}),
    "filter": st.fixed_dictionaries({"conditions": st.lists(CONDITION, min_size=1, max_size=3),
                                     "match": st.sampled_from(["all", "any"]),
                                     "action": st.sampled_from(["keep", "drop"]),
                                     "on_missing": ON_MISSING, "default": JSON}),
    "get_branches": st.fixed_dictionaries({"key": KEYS, "keep": st.lists(KEYS, max_size=2),
                                           "parent_key": st.sampled_from(["", "parent"]), "on_missing": ON_MISSING,
                                           "default": JSON}),
    "merge_defaults": st.fixed_dictionaries({"defaults": st.dictionaries(SEGMENTS, JSON, max_size=3),
                                             "key": st.just("") | KEYS}),
}
_INNER = st.sampled_from(sorted(SETTINGS)).flatmap(lambda kind: SETTINGS[kind].map(
    lambda s: {"kind": kind, "settings": s}))
SETTINGS["conditional"] = st.fixed_dictionaries({
    "conditions": st.lists(CONDITION, min_size=1, max_size=2), "match": st.sampled_from(["all", "any"]),
    "then_steps": st.lists(_INNER, min_size=1, max_size=2), "else_steps": st.lists(_INNER, max_size=2),
    "on_missing": ON_MISSING, "default": JSON})
assert set(SETTINGS) == {key for key, kind in KINDS.items() if kind.pure}, "every pure kind needs a strategy here"

STEP = st.sampled_from(sorted(SETTINGS)).flatmap(
    lambda kind: SETTINGS[kind].map(lambda s: {"kind": kind, "settings": s}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entity=ENTITIES, steps=st.lists(STEP, min_size=1, max_size=4))
def test_every_kind_leaves_its_input_untouched(entity, steps):
    before = copy.deepcopy(entity)
    snapshot = json.dumps(entity, sort_keys=True)
    try:
        outputs = apply_chain(steps, entity)
    except TransformError as exc:  # allowed: bad data for a step; it must still say which step
        assert exc.step_label.startswith("step ")
        outputs = []
    assert entity == before and json.dumps(entity, sort_keys=True) == snapshot
    for out in outputs:
        assert isinstance(out, dict)
        json.dumps(out)  # still plain JSON


SKIPPING = st.one_of(
    st.fixed_dictionaries({"source": KEYS, "target": KEYS, "on_missing": st.just("skip")}).map(
        lambda s: {"kind": "copy", "settings": s}),
    st.fixed_dictionaries({"source": KEYS, "target": KEYS, "on_missing": st.just("skip")}).map(
        lambda s: {"kind": "move", "settings": s}),
    st.fixed_dictionaries({"keys": st.lists(KEYS, min_size=1, max_size=3)}).map(
        lambda s: {"kind": "remove", "settings": s}),
)


@settings(max_examples=500, deadline=None)
@given(entity=ENTITIES, steps=st.lists(SKIPPING, min_size=1, max_size=6))
def test_copy_move_remove_chains_with_skip_never_raise(entity, steps):
    before = copy.deepcopy(entity)
    [out] = apply_chain(steps, entity)
    assert isinstance(out, dict) and entity == before


@settings(deadline=None)
@given(entity=ENTITIES, key=KEYS, value=JSON)
def test_value_set_then_read_back(entity, key, value):
    try:
        [out] = apply_chain([{"kind": "value_setter", "settings": {"key": key, "value": value}}], entity)
    except TransformError as exc:
        assert exc.key == key  # only a write through a scalar or a list gap may fail, and it names the key
        return
    got = apply_chain([{"kind": "copy", "settings": {"source": key, "target": "__probe"}}], out)[0]["__probe"]
    assert got == value
