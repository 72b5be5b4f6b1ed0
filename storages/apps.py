from django.apps import AppConfig


class StoragesConfig(AppConfig):
    name = "storages"
    verbose_name = "Storages"
