"""gunicorn configuration for `make serve` (production mode).

The Makefile passes --bind, --workers and --threads: one worker process
without REDIS_URL (the per-process cache then holds every rate-limit counter
and cached revocation, so a second process would see none of them), several
with REDIS_URL. Threads give concurrency inside a worker either way.

Threads, chosen by measurement (wrk, 32 connections, on a 2-core machine;
`make bench` for the method): the work of a request is Python under the GIL,
so threads beyond a few only add switching. Embedded (1 process), req/s of
anonymous / session / bearer: 2 threads 1 260 / 1 030 / 880, 4 threads
1 130 / 920 / 820, 8 threads 1 180 / 925 / 825. With REDIS_URL (2 processes):
2 threads each 2 950 / 1 860 / 1 550, 4 each 3 000 / 715 / 1 610, 8 each
2 880 / 1 070 / 970 (3 processes x 2 threads: 2 900 / 1 770 / 1 500). So 2
threads per process with REDIS_URL, and 4 for the single embedded process:
within noise of 2 on this load, and it keeps two requests going while the two
password-hashing slots (PASSWORD_HASH_CONCURRENCY) are taken by logins and
while a SQLite writer waits for the lock. Either way the machine runs about
four requests at once. `make serve SERVE_THREADS=n` overrides.
"""

wsgi_app = "authdemo.wsgi:application"
worker_class = "gthread"
# The embedded default; `make serve` passes the measured value of its mode.
threads = 4
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
