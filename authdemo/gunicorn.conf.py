"""gunicorn configuration for `make serve` (production mode).

The Makefile passes --bind and --workers: one worker process without
REDIS_URL (the per-process cache then holds every rate-limit counter and
cached revocation, so a second process would see none of them), several with
REDIS_URL. Threads give concurrency inside a worker either way.
"""

wsgi_app = "authdemo.wsgi:application"
worker_class = "gthread"
threads = 8
# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
graceful_timeout = 20
keepalive = 5
# A 16 KB bearer token must reach the app (and get its 401), not die in gunicorn.
limit_request_field_size = 32768
# No max_requests: recycling the only worker of the embedded default would
# reset its in-memory rate-limit counters.
# No runtime control socket (gunicorn >= 25): it could add workers to an
# instance that must keep exactly one, and two instances would share its path.
control_socket_disable = True
# No access log by default: one line per request is a write on the hot path
# of every request. `make serve GUNICORN_ACCESS_LOG=1` (or --access-logfile)
# turns it on; errors are always logged.
accesslog = None
errorlog = "-"
# Django alone decides whether a request came over HTTPS, from
# DJANGO_BEHIND_TLS_PROXY (SECURE_PROXY_SSL_HEADER); gunicorn derives nothing
# from X-Forwarded-Proto, whoever sends it.
secure_scheme_headers: dict[str, str] = {}
