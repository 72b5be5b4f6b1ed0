"""ConnectWise's Client ID identifies the integration (one per product, not per customer) and is no
credential: it moves from the encrypted secrets to the plain settings, where the HTTP Client's
page shows it and request logs keep it readable."""
from django.db import migrations


def forwards(apps, schema_editor):
    HttpClient = apps.get_model("clients", "HttpClient")
    for client in HttpClient.objects.filter(platform="connectwise"):
        secrets = dict(client.secrets or {})
        if "client_id" not in secrets:
            continue
        value = secrets.pop("client_id")
        settings = dict(client.settings or {})
        settings.setdefault("client_id", value)
        HttpClient.objects.filter(pk=client.pk).update(settings=settings, secrets=secrets)


def backwards(apps, schema_editor):
    HttpClient = apps.get_model("clients", "HttpClient")
    for client in HttpClient.objects.filter(platform="connectwise"):
        settings = dict(client.settings or {})
        if "client_id" not in settings:
            continue
        secrets = dict(client.secrets or {})
        secrets.setdefault("client_id", settings.pop("client_id"))
        HttpClient.objects.filter(pk=client.pk).update(settings=settings, secrets=secrets)


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
