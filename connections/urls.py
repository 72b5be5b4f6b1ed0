from django.urls import include, path

from .views import incoming, outgoing, routes, runs, schedulers, tasks, transformers

app_name = "connections"

urlpatterns = [
    path("connections/incoming/", include(incoming.urlpatterns)),
    path("connections/outgoing/", include(outgoing.urlpatterns)),
    path("connections/routes/", include(routes.urlpatterns)),
    path("connections/transformers/", include(transformers.urlpatterns)),
    path("runs/", include(runs.urlpatterns)),
    path("tasks/", include(tasks.urlpatterns)),
    path("schedulers/", include(schedulers.urlpatterns)),
]
