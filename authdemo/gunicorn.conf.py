"""gunicorn configuration for `make serve` (production mode).

Threaded workers (gthread) serving authdemo.wsgi. The Makefile passes --bind,
--workers (SERVE_WORKERS: the CPU count, at least 2) and --threads (4 per
process embedded, 2 with REDIS_URL; `make serve SERVE_THREADS=n` overrides).
A request's work is Python under the GIL, so a few threads per process are
enough; the embedded default keeps 4 so requests go on while logins hold the
password-hashing slots or a SQLite writer waits for the lock. Processes share
what a request leaves for later ones through the shared cache, and without
Redis the revocation log in var/ (authcache/, docs/operations.md). The
measurements behind these numbers are in docs/bench/server-settings.md.
Each worker listens on its own socket (reuse_port below), so the kernel, not
whichever process wakes first, spreads connections over the processes.
"""

import os

wsgi_app = "authdemo.wsgi:application"
worker_class = "gthread"
# The embedded default; `make serve` passes the value of its mode.
threads = 4
# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
graceful_timeout = 20
keepalive = 5
# One listening socket per worker process, bound with SO_REUSEPORT (gunicorn
# >= 24 opens it in each worker): the kernel hashes every new connection to
# one of them, so 32 connections split about evenly instead of all going to
# the process that polled first (docs/bench/server-settings.md). Linux admits
# a second socket on the port only for the same user, so another instance of
# this user on the same HOST:PORT would share the traffic instead of failing
# to bind: run one `make serve` per port.
reuse_port = True
# A 16 KB bearer token must reach the app (and get its 401), not die in gunicorn.
limit_request_field_size = 32768
# No max_requests: a recycled worker starts with a cold cache (its first
# requests read the database); set it only against a measured leak.
# No runtime control socket (gunicorn >= 25): nothing needs to change the
# workers of a running instance, and two instances would share its path.
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

# `make bench` only: with AUTHDEMO_BENCH_QUERY_DIR set, each worker counts the
# requests that reached the database (bench/querycount.py). Never set in a
# deployment: the hooks are not installed at all without it.
if os.environ.get("AUTHDEMO_BENCH_QUERY_DIR"):
    from bench.querycount import post_request, post_worker_init, pre_request  # noqa: F401
