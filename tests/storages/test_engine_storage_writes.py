"""A run saves "Filter previously stored" entries with its page's tasks, and never without them."""
from connections import engine
from connections.models import IncomingTransformer, Run, Task, Transformer
from storages.models import Storage, StorageEntry
from tests.engine.conftest import build_pipeline
from tests.fakes.platforms import FakePicqer, FakePipedrive

ONLY_CHANGED = [{"kind": "filter_previously_stored", "settings": {"storage": "seen", "key": "&{id}"}}]


def test_entries_are_saved_with_the_tasks_so_the_second_run_filters_everything(db):
    Storage.objects.create(name="Seen", identifier="seen")
    with FakePicqer(records=150) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)
        only_changed = Transformer.objects.create(name="Only changed", identifier="only-changed", steps=ONLY_CHANGED)
        IncomingTransformer.objects.create(incoming=pipeline.incoming, transformer=only_changed, stage="entity")

        first = engine.execute_run(engine.start_run(pipeline.incoming).pk)
        assert first.status == Run.Status.FINISHED and first.tasks_created == 150
        assert StorageEntry.objects.count() == 150

        second = engine.execute_run(engine.start_run(pipeline.incoming).pk)
        assert second.status == Run.Status.FINISHED and second.filtered == 150 and second.tasks_created == 0


def test_a_run_that_fails_mid_page_keeps_no_entry_of_that_page(db):
    Storage.objects.create(name="Seen", identifier="seen")
    with FakePicqer(records=150) as source, FakePipedrive() as destination:
        pipeline = build_pipeline(source, destination)
        only_changed = Transformer.objects.create(name="Only changed", identifier="only-changed", steps=[
            *ONLY_CHANGED, {"kind": "cast", "settings": {"key": "name", "to": "number"}}])
        IncomingTransformer.objects.create(incoming=pipeline.incoming, transformer=only_changed, stage="entity")

        run = engine.execute_run(engine.start_run(pipeline.incoming).pk)

        assert run.status == Run.Status.FAILED and "cannot cast" in run.error
        assert StorageEntry.objects.count() == 0 and Task.objects.count() == 0
