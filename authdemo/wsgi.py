"""WSGI entry point (gunicorn authdemo.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authdemo.settings")

application = get_wsgi_application()
