import logging

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from alumio_lite.access_log import RedactQueryFilter

        # runserver logs each request line: the OAuth callback's code and state stay out of it.
        logger = logging.getLogger("django.server")
        if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
            logger.addFilter(RedactQueryFilter())
