"""gunicorn configuration for `make serve` (production mode).

The Makefile passes --bind, --workers and --threads: SERVE_WORKERS worker
processes in every mode (default: the CPU count, at least 2). They share
what a request leaves for later ones (login-limit counters, lab runs)
through the shared cache: Redis with REDIS_URL, else a table of the database
(authcache/shared.py). Without Redis each keeps the hot path in its own
memory, and the revocation log in var/ makes every process drop what
it cached before a revocation (authcache/live.py). Threads give
concurrency inside a worker either way.

Threads, chosen by measurement (wrk, 32 connections, on a 2-core machine;
`make bench` for the method): the work of a request is Python under the GIL,
so threads beyond a few only add switching. Embedded, 1 process, req/s of
anonymous / session / bearer: 2 threads 1 260 / 1 030 / 880, 4 threads
1 130 / 920 / 820, 8 threads 1 180 / 925 / 825. With REDIS_URL (2 processes):
2 threads each 2 950 / 1 860 / 1 550, 4 each 3 000 / 715 / 1 610, 8 each
2 880 / 1 070 / 970 (3 processes x 2 threads: 2 900 / 1 770 / 1 500). So 2
threads per process with REDIS_URL, and 4 per embedded process: within noise
of 2 on this load, and it keeps two requests going while the two
password-hashing slots (PASSWORD_HASH_CONCURRENCY) are taken by logins and
while a SQLite writer waits for the lock. Embedded with several processes
(medians of 5 interleaved rounds, bearer 4, on a machine busy with other
work): 1 process x 4 threads 1 890 / 1 600 / 1 270, 2 x 2 2 600 / 2 390 /
1 560, 2 x 4 1 950 / 2 290 / 2 200, 2 x 8 2 260 / 1 610 / 1 370. Two
processes beat one, but no thread count stands out: single runs of one
setting ranged from 1 300 to 4 100 req/s, because wrk's 32 keep-alive
connections split between the two processes as they happen to be accepted
(32/0 to 16/16 in five runs; the even split was the fastest), which moves a
run more than the thread count does. So 4 stays. `make serve
SERVE_THREADS=n` overrides.
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
