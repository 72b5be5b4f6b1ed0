"""The storage transformer kinds: save, get, filter previously stored; direct, buffered and dry-run writes."""
import pytest

from connections.transformers import TransformError, apply_chain, validate_steps
from connections.transformers import context as step_context
from storages import store
from storages.models import Storage, StorageEntry


@pytest.fixture
def customers(db):
    return Storage.objects.create(name="Customers", identifier="customers")


def save_step(**settings):
    return {"kind": "save_to_storage", "settings": {"storage": "customers", "key": "&{id}", **settings}}


def filter_step(**settings):
    return {"kind": "filter_previously_stored", "settings": {"storage": "customers", "key": "&{id}", **settings}}


def test_save_keeps_the_entity_or_a_part_under_its_key(customers):
    assert apply_chain([save_step()], {"id": 7, "name": "Ann"}) == [{"id": 7, "name": "Ann"}]
    apply_chain([save_step(key="c-&{id}", path="name")], {"id": 7, "name": "Ann"})
    assert store.get(customers, "7") == {"id": 7, "name": "Ann"}
    assert store.get(customers, "c-7") == "Ann"


def test_get_puts_the_stored_value_at_a_key_and_says_what_is_missing(customers):
    store.save(customers, "7", {"owner": "Bo"})
    step = {"kind": "get_from_storage", "settings": {"storage": "customers", "key": "&{id}", "target": "stored"}}
    assert apply_chain([step], {"id": 7}) == [{"id": 7, "stored": {"owner": "Bo"}}]
    with pytest.raises(TransformError) as exc:
        apply_chain([step], {"id": 8})
    assert 'no entry with key "8"' in str(exc.value) and "Step 1 (Get from storage)" in str(exc.value)
    step["settings"]["on_absent"] = "skip"
    assert apply_chain([step], {"id": 8}) == [{"id": 8}]
    step["settings"].update(on_absent="default", default=None)
    assert apply_chain([step], {"id": 8}) == [{"id": 8, "stored": None}]


def test_filter_drops_unchanged_entities_and_stores_the_ones_that_pass(customers):
    assert apply_chain([filter_step()], {"id": 1, "name": "Ann"}) == [{"id": 1, "name": "Ann"}]
    assert apply_chain([filter_step()], {"name": "Ann", "id": 1}) == []  # same content, other key order
    assert apply_chain([filter_step()], {"id": 1, "name": "Ann B"}) == [{"id": 1, "name": "Ann B"}]
    assert apply_chain([filter_step(path="name")], {"id": 2, "name": "Cy", "seen": 1}) != []
    assert apply_chain([filter_step(path="name")], {"id": 2, "name": "Cy", "seen": 2}) == []  # only name compared


def test_an_unknown_storage_is_named_when_the_step_is_saved(db):
    errors = validate_steps([save_step(storage="nope")])
    assert errors == ['Step 1 (Save to storage): there is no storage "nope"; create it under Connections → '
                      "Storages first."]


def test_dry_run_saves_nothing_but_says_what_it_would_save(customers):
    with step_context.running(step_context.StepContext(mode=step_context.DRY_RUN)) as ctx:
        assert apply_chain([filter_step()], {"id": 1}) == [{"id": 1}]
        assert apply_chain([filter_step()], {"id": 1}) == []  # sees its own pending write
    assert not StorageEntry.objects.exists()
    assert any('Would save key "1"' in note for note in ctx.notes)


def test_buffered_writes_wait_for_commit(customers):
    ctx = step_context.StepContext(mode=step_context.BUFFERED)
    with step_context.running(ctx):
        apply_chain([save_step()], {"id": 1})
        assert not StorageEntry.objects.exists()
        ctx.commit()
    assert store.get(customers, "1") == {"id": 1}


def test_an_empty_key_is_an_error_not_a_shared_entry(customers):
    with pytest.raises(TransformError) as exc:
        apply_chain([save_step()], {"id": ""})
    assert "empty key" in str(exc.value)
