"""The big admin lists show each row as Django's admin does, without its per-row costs.

Django rendered a widget template for every row's checkbox and resolved every row's link against
all of the admin's URL patterns (to carry the list's filters): most of a 50-row page's time.
"""
import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_urls
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import reverse

from clients.models import HttpClient, RequestLog
from connections.models import Task


@pytest.fixture
def signed_in_admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789"))
    return client


@pytest.fixture
def rows(route):
    tasks = Task.objects.bulk_create([Task(route=route, dedupe_key=f"k{i}", data={}, label=f"<b>Customer {i}</b>")
                                      for i in range(3)])
    client = HttpClient.objects.get(identifier="shop")
    RequestLog.objects.bulk_create([RequestLog(client=client, task=t, method="POST", url="https://x.test/",
                                               status=503) for t in tasks])
    return tasks


@pytest.mark.parametrize("model, params", [
    (Task, {"status__exact": "new"}),
    (RequestLog, {"status_class": "errors", "method": "POST"}),
    (Task, {}),
])
def test_rows_have_djangos_checkbox_and_a_link_back_to_the_filtered_list(signed_in_admin, rows, monkeypatch,
                                                                         model, params):
    resolved = []
    real_resolve = admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda url: resolved.append(url) or real_resolve(url))
    opts = model._meta
    response = signed_in_admin.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), params)
    during_request = list(resolved)
    page = response.content.decode()
    cl = response.context["cl"]
    assert len(cl.result_list) == 3
    for obj in cl.result_list:
        assert admin.ModelAdmin.action_checkbox(cl.model_admin, obj) in page  # as Django renders it
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        expected = add_preserved_filters({"preserved_filters": cl.model_admin.get_preserved_filters(
            response.wsgi_request), "opts": opts}, change)
        assert cl.url_for_result(obj) == expected and f'href="{expected}"' in page.replace("&amp;", "&")
    assert during_request == []  # no row's link resolved
