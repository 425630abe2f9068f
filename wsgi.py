"""The one entry point for servers and ``flask --app wsgi``."""

import sys

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"Settle cannot start: {error}")

# `celery -A wsgi.celery_app worker -B` runs the same tasks on Redis (set REDIS_URL).
celery_app = app.extensions["celery"]
