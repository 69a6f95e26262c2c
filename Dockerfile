FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=returns_portal.settings.production

# WeasyPrint needs Pango, and HarfBuzz's subsetter to embed fonts quickly; fonts for the labels.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
COPY returns_portal ./returns_portal
COPY rma ./rma
COPY labels ./labels
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs some settings values, none of them secret.
RUN SECRET_KEY=build-only-$(head -c 48 /dev/urandom | base64 | tr -d '/+=') ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 app && mkdir -p /app/media && chown app /app/media
USER app
EXPOSE 8000
CMD ["gunicorn", "returns_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
