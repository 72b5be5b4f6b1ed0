from django.urls import path

from . import intake, views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/<slug:identifier>", intake.receive, name="intake"),
    path("connections/webhooks/", views.webhook_list, name="list"),
    path("connections/webhooks/new/", views.webhook_create, name="create"),
    path("connections/webhooks/export/", views.webhook_export, name="export"),
    path("connections/webhooks/import/", views.webhook_import, name="import"),
    path("connections/webhooks/<int:pk>/", views.webhook_edit, name="edit"),
    path("connections/webhooks/<int:pk>/delete/", views.webhook_delete, name="delete"),
    path("connections/webhooks/<int:pk>/register/", views.webhook_register, name="register"),
    path("connections/webhooks/<int:pk>/unregister/", views.webhook_unregister, name="unregister"),
    path("connections/webhooks/requests/", views.request_list, name="request_list"),
    path("connections/webhooks/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("connections/webhooks/requests/<int:pk>/replay/", views.request_replay, name="request_replay"),
]
