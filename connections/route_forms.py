"""Forms of Connections -> Routes and Settings -> Schedulers."""
from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.utils.text import slugify
from django_celery_beat.models import PeriodicTask

from . import schedules
from .form_fields import OrderedTransformersField
from .models import Incoming, Outgoing, Route, RouteTransformer, Transformer

PROCESSING_CHOICES = [
    ("realtime", "Realtime processing: publish each task as soon as it is created"),
    ("scheduled", "Scheduled processing: publish queued tasks when a scheduler runs the route"),
]

MAX_ATTEMPTS = 100
MAX_BACKOFF_SECONDS = 86_400  # a day before the first retry is already more than any platform needs


class RouteForm(forms.ModelForm):
    """A route: incoming -> route transformers (ordered) -> tasks -> outgoing, with its options."""

    transformer_field = "transformers"
    transformers = OrderedTransformersField(label="Route transformers")
    processing = forms.ChoiceField(choices=PROCESSING_CHOICES, widget=forms.RadioSelect, initial="realtime",
                                   label="Processing")

    class Meta:
        model = Route
        fields = ["name", "identifier", "incoming", "outgoing", "enabled", "retry_on_failure", "max_attempts",
                  "backoff_seconds"]
        labels = {"incoming": "Incoming", "outgoing": "Outgoing", "backoff_seconds": "Backoff (seconds)",
                  "max_attempts": "Max attempts"}
        help_texts = {
            "retry_on_failure": "Retry when the platform answers 5xx or does not answer (a 429 always waits "
                                "for the platform's reset and never counts as a failure).",
            "backoff_seconds": "Wait before the first retry; doubled on every further attempt.",
            "max_attempts": "After this many failed attempts the task is Failed.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].required = False
        self.fields["identifier"].help_text = "Derived from the name when left empty; unique."
        self.fields["incoming"].queryset = Incoming.objects.order_by("name")
        self.fields["outgoing"].queryset = Outgoing.objects.order_by("name")
        self.fields["incoming"].empty_label = "Choose an incoming configuration"
        self.fields["outgoing"].empty_label = "Choose an outgoing configuration"
        # Bounds a person means: the backoff doubles per attempt (capped at a week by the engine).
        for name, low, high in (("max_attempts", 1, MAX_ATTEMPTS), ("backoff_seconds", 0, MAX_BACKOFF_SECONDS)):
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high)
        if self.instance.pk:
            self.initial.setdefault("processing", "realtime" if self.instance.realtime else "scheduled")
            self.initial.setdefault("transformers", self.instance.transformers_in_order())

    def transformer_rows(self) -> list[str]:
        """Selected transformer ids in order, one <select> per row."""
        field = self.fields["transformers"]
        if self.is_bound:
            value = self.data.getlist("transformers") if hasattr(self.data, "getlist") else []
        else:
            value = self.initial.get("transformers", [])
        return [v for v in field.prepare_value(value) if v]

    def clean_identifier(self) -> str:
        typed = (self.cleaned_data.get("identifier") or "").strip()
        if typed:
            if typed != slugify(typed):
                raise forms.ValidationError("Use only lower-case letters, digits and hyphens (e.g. orders-to-crm).")
            return typed
        base = slugify(self.cleaned_data.get("name") or "")[:180] or "route"
        candidate, n = base, 2
        while Route.objects.filter(identifier=candidate).exclude(pk=self.instance.pk).exists():
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def clean_max_attempts(self) -> int:
        value = self.cleaned_data["max_attempts"]
        if value < 1:
            raise forms.ValidationError("At least 1 attempt.")
        return value

    def save(self, commit: bool = True) -> Route:
        route = super().save(commit=False)
        route.realtime = self.cleaned_data["processing"] == "realtime"
        with transaction.atomic():
            route.save()
            RouteTransformer.objects.filter(route=route).delete()
            RouteTransformer.objects.bulk_create(
                RouteTransformer(route=route, transformer=t, position=i)
                for i, t in enumerate(self.cleaned_data.get("transformers") or []))
        return route

    @staticmethod
    def all_transformers() -> list[Transformer]:
        return list(Transformer.objects.only("id", "name"))


class SchedulerForm(forms.Form):
    """A user scheduler: run an incoming, or process a route's queued tasks, on a cron expression."""

    name = forms.CharField(max_length=150)
    kind = forms.ChoiceField(label="What to run", choices=[(k, label) for k, (_task, label) in schedules.KINDS.items()])
    # Names only: a choice list never needs the JSON columns (and can't break on what they hold).
    incoming = forms.ModelChoiceField(queryset=Incoming.objects.only("id", "name").order_by("name"), required=False,
                                      empty_label="Choose an incoming configuration")
    route = forms.ModelChoiceField(queryset=Route.objects.only("id", "name").order_by("name"), required=False,
                                   empty_label="Choose a route")
    cron = forms.CharField(label="Cron expression", max_length=100,
                           help_text="minute hour day-of-month month day-of-week, e.g. “*/15 * * * *” "
                                     "(every 15 minutes) or “0 6 * * 1-5” (06:00 on weekdays).")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, instance: PeriodicTask | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and not kwargs.get("initial"):
            target = schedules.target_of(instance)
            initial = {"name": instance.name, "enabled": instance.enabled,
                       "cron": schedules.cron_text(instance.crontab) if instance.crontab_id else ""}
            if target:
                initial["kind"] = target.kind
                initial["incoming" if target.kind == "run_incoming" else "route"] = target.target_id
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name.startswith(schedules.SYSTEM_PREFIX):
            raise forms.ValidationError("Names starting with “system:” are kept for the built-in jobs.")
        taken = PeriodicTask.objects.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("A scheduler with this name exists already.")
        return name

    def clean_cron(self) -> str:
        expression = " ".join(self.cleaned_data["cron"].split())
        try:
            schedules.parse_cron(expression)
        except schedules.CronError as exc:
            raise forms.ValidationError(str(exc)) from None
        return expression

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind == "run_incoming" and not data.get("incoming"):
            self.add_error("incoming", "Choose the incoming configuration to run.")
        if kind == "process_route" and not data.get("route"):
            self.add_error("route", "Choose the route whose tasks to process.")
        return data

    def save(self) -> PeriodicTask:
        data = self.cleaned_data
        target = data["incoming"] if data["kind"] == "run_incoming" else data["route"]
        return schedules.save_scheduler(name=data["name"], kind=data["kind"], target_id=target.pk, cron=data["cron"],
                                        enabled=data["enabled"], task=self.instance)
