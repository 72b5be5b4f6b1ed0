# Production image: gunicorn serves the dashboard, whitenoise its static files.
# The same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ALUMIO_VAR_DIR=/app/var STATIC_MANIFEST=1
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs a SECRET_KEY to import settings; it is not the runtime key.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 alumio && mkdir -p /app/var && chown -R alumio /app/var
USER alumio

EXPOSE 8000
CMD ["gunicorn", "alumio_lite.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
