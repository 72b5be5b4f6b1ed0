"""Incoming and Outgoing configurations, Routes, Runs, Tasks and saved Transformers."""
from datetime import timedelta

from django.db import models
from django.urls import reverse
from django.utils import timezone


class Configuration(models.Model):
    """Fields shared by incoming and outgoing configurations."""

    name = models.CharField(max_length=200)
    identifier = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    disabled = models.BooleanField(default=False)
    platform = models.CharField(max_length=40, db_index=True)
    method = models.CharField(max_length=10, blank=True)
    entity = models.CharField(max_length=300)  # the stable key of a catalog entity
    client = models.ForeignKey("clients.HttpClient", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Transformer(models.Model):
    """A saved, named, ordered chain of transformer steps.

    steps: [{"kind": "value_setter", "settings": {...}}, ...]; kinds live in
    connections.transformers.
    """

    name = models.CharField(max_length=200)
    identifier = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    steps = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TransformerExample(models.Model):
    """A saved input/output pair: a regression example that runs in the test suite."""

    transformer = models.ForeignKey(Transformer, on_delete=models.CASCADE, related_name="examples")
    input = models.JSONField()
    output = models.JSONField()  # a list of entities (filters drop, branches split)
    created_at = models.DateTimeField(auto_now_add=True)


class Incoming(Configuration):
    """A subscriber: reads entities from a platform entity through an HTTP client.

    A Webhook subscriber (platform "webhook", see webhooks.parsers) fetches nothing: webhooks
    push its entities, so it has no HTTP Client and keeps how to read their bodies in `parser`.
    """

    client = models.ForeignKey("clients.HttpClient", on_delete=models.PROTECT, related_name="+", null=True,
                               blank=True)
    parser = models.JSONField(default=dict, blank=True)  # Webhook subscriber: {"format", "path", "delimiter"}
    request_parameters = models.JSONField(default=dict, blank=True)  # {"path": {...}, "query": {...}}
    pagination = models.BooleanField("Enable pagination", default=False)
    input_transformers = models.ManyToManyField(
        Transformer, through="IncomingTransformer", related_name="+", blank=True
    )
    last_test = models.JSONField(null=True, blank=True)  # the entities of the last "Run test"

    class Meta(Configuration.Meta):
        verbose_name = "Incoming configuration"

    def get_absolute_url(self) -> str:
        return reverse("connections:incoming_edit", args=[self.pk])

    def transformers_in_order(self, stage: str = "input") -> list[Transformer]:
        """The transformers of one stage ("input" or "entity"), in chain order."""
        return _in_order(self.incomingtransformer_set.filter(stage=stage))


class IncomingTransformer(models.Model):
    """An ordered attachment. stage: input (before the request) or entity (after it)."""

    incoming = models.ForeignKey(Incoming, on_delete=models.CASCADE)
    transformer = models.ForeignKey(Transformer, on_delete=models.PROTECT)
    stage = models.CharField(max_length=10, choices=[("input", "Input"), ("entity", "Entity")], default="input")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage", "position"]


class Outgoing(Configuration):
    """A publisher: sends one entity at a time to a platform entity."""

    query = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    transformers = models.ManyToManyField(Transformer, through="OutgoingTransformer", related_name="+", blank=True)

    class Meta(Configuration.Meta):
        verbose_name = "Outgoing configuration"

    def get_absolute_url(self) -> str:
        return reverse("connections:outgoing_edit", args=[self.pk])

    def transformers_in_order(self) -> list[Transformer]:
        """The request transformers, in chain order."""
        return _in_order(self.outgoingtransformer_set.all())


class OutgoingTransformer(models.Model):
    outgoing = models.ForeignKey(Outgoing, on_delete=models.CASCADE)
    transformer = models.ForeignKey(Transformer, on_delete=models.PROTECT)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]


class Route(models.Model):
    """Incoming -> route transformers -> tasks -> outgoing."""

    name = models.CharField(max_length=200)
    identifier = models.SlugField(max_length=200, unique=True)
    incoming = models.ForeignKey(Incoming, on_delete=models.PROTECT, related_name="routes")
    outgoing = models.ForeignKey(Outgoing, on_delete=models.PROTECT, related_name="routes")
    transformers = models.ManyToManyField(Transformer, through="RouteTransformer", related_name="+", blank=True)
    enabled = models.BooleanField(default=True)
    realtime = models.BooleanField("Realtime processing", default=True)
    retry_on_failure = models.BooleanField(default=True)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    backoff_seconds = models.PositiveIntegerField(default=30)  # doubled on every attempt
    # Set while a worker deletes the route's tasks in batches (connections.deletion); the row goes last.
    deletion_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("connections:route_detail", args=[self.pk])

    def transformers_in_order(self) -> list[Transformer]:
        """The route transformers, in chain order."""
        return _in_order(self.routetransformer_set.all())


class RouteTransformer(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE)
    transformer = models.ForeignKey(Transformer, on_delete=models.PROTECT)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]


class Run(models.Model):
    """One execution of an incoming configuration."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    incoming = models.ForeignKey(Incoming, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=20, default="manual")  # manual, schedule, cli
    pages = models.PositiveIntegerField(default=0)
    entities = models.PositiveIntegerField(default=0)  # raw records fetched, before filtering
    filtered = models.PositiveIntegerField(default=0)  # entities dropped by transformers
    tasks_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    error_step = models.CharField(max_length=100, blank=True)  # e.g. "page 2"
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True)
    # "host:pid" of the process running it, so a dead one is recognised at once (connections.claims)
    claimed_by = models.CharField(max_length=100, null=True, blank=True)
    resumes = models.PositiveSmallIntegerField(default=0, db_default=0)  # times restarted after its worker died
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # An incoming's runs newest first (Runs filtered by incoming, a route's recent runs) and its
            # last run (the Incoming list): one index range at a million runs, not a scan of them all.
            models.Index(fields=["incoming", "created_at", "id"], name="run_incoming_newest"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.incoming}"

    @property
    def duration(self) -> timedelta | None:
        """How long it ran, once it has finished."""
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    def get_absolute_url(self) -> str:
        return reverse("connections:run_detail", args=[self.pk])


class Task(models.Model):
    """One entity on its way through a route."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        PROCESSING = "processing", "Processing"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        WAITING = "waiting", "Waiting"

    # Both indexed together with status or id below (a route's or a run's tasks newest first).
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks",
                            db_index=False)
    # Deterministic per (route, source position or entity id): a retried run cannot duplicate tasks.
    dedupe_key = models.CharField(max_length=300)
    # Which record the task carries: its id at the source and a readable label (see connections.records).
    record_id = models.CharField("Record id", max_length=200, blank=True, default="", db_default="")
    label = models.CharField(max_length=200, blank=True, default="", db_default="")
    data = models.JSONField()
    # Indexed with route or id below; every status change also moves the counts in connections.counts.
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, null=True, blank=True)  # "host:pid" publishing it
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Newest first. Ids grow with every insert, so every list filter below is one index range
        # read backwards, and "Load older" continues below the last id shown (connections.keyset).
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["route", "dedupe_key"], name="unique_task_per_route_entity")]
        indexes = [
            # Publishers claim a route's New tasks oldest first: WHERE route, status ORDER BY id LIMIT n
            # is then one index range, however many finished tasks the route has. Also the Tasks list
            # filtered by route and status.
            models.Index(fields=["route", "status", "id"], name="task_claim_order"),
            models.Index(fields=["route", "id"], name="task_route_newest"),
            models.Index(fields=["status", "id"], name="task_status_newest"),
            models.Index(fields=["run", "id"], name="task_run_newest"),
            # The dashboard's "failed in the last 24 hours".
            models.Index(fields=["status", "updated_at"], name="task_status_updated"),
            # Search by the record's id at the source (exact) ...
            models.Index(fields=["record_id"], name="task_record_id"),
            # ... or its label (case-insensitive prefix): created per database in the migration,
            # because each needs its own form of index for a prefix match (connections.task_search).
        ]

    def __str__(self) -> str:
        return f"Task {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("connections:task_detail", args=[self.pk])


class WorkerHeartbeat(models.Model):
    """Written by a periodic Celery task, so the dashboard can tell whether a worker is alive."""

    hostname = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)

    # The heartbeat job runs every 30 s: a worker silent for longer than this is taken as gone.
    ONLINE_WINDOW = timedelta(minutes=2)

    @classmethod
    def online(cls) -> models.QuerySet:
        return cls.objects.filter(seen_at__gte=timezone.now() - cls.ONLINE_WINDOW)


class RunTest(models.Model):
    """One "Run test" of an incoming configuration: runs it once now and creates no tasks.

    A background thread fills it in while the page polls it; the state is here rather than
    in a cache so any web process can answer the poll.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    incoming = models.ForeignKey(Incoming, on_delete=models.CASCADE, related_name="tests")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    events = models.JSONField(default=list, blank=True)  # redacted exchanges, as they happen
    dropped_events = models.PositiveIntegerField(default=0)  # exchanges beyond the kept number
    pages = models.PositiveIntegerField(default=0)
    entities = models.PositiveIntegerField(default=0)  # raw records, before input filtering
    sample = models.JSONField(default=list, blank=True)  # the first entities returned
    error = models.TextField(blank=True)
    error_step = models.CharField(max_length=100, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Run test {self.pk} of {self.incoming}"

    @property
    def done(self) -> bool:
        return self.status != self.Status.RUNNING

    @property
    def sample_json(self) -> str:
        """The sample for the page, sampled again so a test saved before redaction shows no secret either."""
        from . import files
        from .json_policy import for_display
        from .samples import sample_of

        secrets = self.incoming.client.secret_values()
        return for_display(files.for_display([sample_of(entity, secrets) for entity in self.sample or []]))


def _in_order(attachments: models.QuerySet) -> list[Transformer]:
    """The transformers of ordered attachment rows (position, then the order they were added)."""
    return [row.transformer for row in attachments.select_related("transformer").order_by("position", "pk")]


class ImportJob(models.Model):
    """A big configurations import, checked (and applied) by a worker while its page shows progress.

    The file's text is kept here, not on disk, so a worker on another machine can read it; it is
    emptied when the job ends. `changes` keeps the first rows of the report (see import_jobs).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    dry_run = models.BooleanField(default=True)
    total = models.PositiveIntegerField(default=0)  # configurations in the file
    checked = models.PositiveIntegerField(default=0)
    applied = models.BooleanField(default=False)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    back_url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.file_name})"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED)
