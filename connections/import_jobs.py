"""Big configuration imports run on a worker, with progress, instead of inside the web request.

A file of 200,000 configurations took 129 s inside the request that uploaded it. A file of more
than settings.IMPORT_INLINE_LIMIT configurations now becomes an ImportJob: the page that follows
polls it ("Checked 12,300 of 200,000"), and shows the same report as a small import when the
worker is done (its first REPORT_ROWS rows, errors first; the summary counts every row). The
rules are the same as inline: one error and nothing is written.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from . import portable
from .models import ImportJob

log = logging.getLogger(__name__)

REPORT_ROWS = 500


def start(text: str, file_name: str, dry_run: bool, total: int, back_url: str) -> ImportJob:
    job = ImportJob.objects.create(text=text, file_name=file_name[:200], dry_run=dry_run, total=total,
                                   back_url=back_url[:200])
    from .tasks import import_configurations

    import_configurations.delay_on_commit(job.pk)
    return job


def execute(job_id: int) -> ImportJob:
    """Check (and unless a dry run, apply) the job's file; every outcome ends up on the row."""
    job = ImportJob.objects.get(pk=job_id)
    if job.done:
        return job  # a redelivered message: the work is done
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, checked=0)
    try:
        document = portable.loads(job.text)
        report = portable.import_document(document, dry_run=job.dry_run, progress=lambda n: _progress(job.pk, n))
    except portable.ImportFileError as exc:
        _finish(job, ImportJob.Status.FAILED, error=f"The file can't be imported: {exc}.")
    except Exception as exc:  # shown on the page; nothing was written (one transaction)
        log.exception("import %s failed", job.pk)
        _finish(job, ImportJob.Status.FAILED, error=f"The import stopped: {type(exc).__name__}: {exc}")
    else:
        if report.applied:
            from audit import events as audit

            audit.record("Import", detail=report.summary(), file=job.file_name)
        rows = sorted(report.changes, key=lambda c: c.action != "error")[:REPORT_ROWS]
        _finish(job, ImportJob.Status.FINISHED, applied=report.applied, summary=report.summary(),
                changes=[{"kind": c.kind, "identifier": c.identifier, "action": c.action, "errors": c.errors,
                          "changed_fields": c.changed_fields} for c in rows])
    job.refresh_from_db()
    return job


def _progress(job_id: int, checked: int) -> None:
    with transaction.atomic():
        ImportJob.objects.filter(pk=job_id).update(checked=checked)


def _finish(job: ImportJob, status: str, **fields) -> None:
    ImportJob.objects.filter(pk=job.pk).update(status=status, text="", checked=job.total,
                                               finished_at=timezone.now(), **fields)
