"""Django admin changelists for tables with millions of rows (tasks, request logs, runs).

The admin's defaults are built for small tables: an exact COUNT of the selection (and another of
the whole table), a date_hierarchy that sorts every date, filters whose choices come from
SELECT DISTINCT over the table, and `icontains` search that reads every row. `BigTableAdmin`
turns them off or bounds them; the admins give fixed filter choices and search only indexed columns.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

# Counted up to here; beyond, the changelist says this many and pages stop there (the dashboard's
# own lists, with "Load older", go on without a limit).
COUNT_CAP = 1_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: SELECT COUNT(*) FROM (... LIMIT cap), bounded however big the table.

    Unordered: which rows are counted doesn't matter, and an ORDER BY made the database find and sort
    every match first (a task search matching 11,000 labels: 282 ms at 10M tasks).
    """

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[:COUNT_CAP].count()


class BigTableChangeList(ChangeList):
    """Each row's link carries the list's filters (to come back to them) without resolving the link.

    The admin's row template passes every row's change URL through add_preserved_filters, which
    resolves it against all of the admin's URL patterns to see whether it is the changelist's own:
    50 resolves per filtered page, a fifth of its time. A change URL never is, so the query the
    rows get is the same for all of them: worked out once here.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # As add_preserved_filters merges it into a URL without a query; "" stops it doing it again per row.
        self.row_query = urlencode(dict(parse_qsl(self.preserved_filters))) if self.preserved_filters else ""
        self.preserved_filters = ""

    def url_for_result(self, result) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.row_query}" if self.row_query else url


class BigTableAdmin(admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False  # no second COUNT of the whole table
    list_per_page = 50
    # Columns too big to load for a list of 50 rows.
    changelist_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return BigTableChangeList

    def action_checkbox(self, obj) -> str:
        """The admin's row checkbox, as its CheckboxInput renders it, without rendering a widget template per row."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           helpers.ACTION_CHECKBOX_NAME, str(obj.pk), label)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if self.changelist_defer and match and match.url_name and match.url_name.endswith("_changelist"):
            queryset = queryset.defer(*self.changelist_defer)
        return queryset


class ChoicesFilter(admin.SimpleListFilter):
    """A filter with fixed choices, each a Q: no query to find the choices."""

    options: dict  # value -> (label, Q)

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _q) in self.options.items()]

    def queryset(self, request, queryset):
        if self.value() in self.options:
            return queryset.filter(self.options[self.value()][1])
        return queryset
