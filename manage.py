#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authdemo.settings")
    # The commands the README and the project print (createsuperuser,
    # changepassword, jwt_rotate_key) work as printed in a checkout: with no
    # production secret key and no explicit DJANGO_DEBUG, manage.py runs the
    # embedded development configuration (its secrets in var/, written once by
    # `manage.py init_secrets`; every other command names it while they are missing).
    # Production stays strict: `make serve` exports DJANGO_DEBUG=0, gunicorn
    # imports authdemo.wsgi (not this file), and `check --deploy` fails on DEBUG.
    if "DJANGO_SECRET_KEY" not in os.environ:
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
