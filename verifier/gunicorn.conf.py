"""gunicorn configuration of the stateless verifier (`make verifier`, `make run`).

Run as a lean resource server would be: several worker processes (the
Makefile passes --workers: VERIFIER_WORKERS, by default the CPU count, at
least 2; a signature check is CPU work under the GIL, so processes, not
threads, add throughput), a few threads each for the requests that wait on
the network, and no access-log line per request. Each process keeps its own
JWKS cache and refetch rate limit (verifier/jwks.py): N processes fetch the
JWKS at most N times per refetch interval. The Makefile passes --bind.
"""

wsgi_app = "verifier.app:application_from_env()"
worker_class = "gthread"
# `make verifier` passes VERIFIER_WORKERS; alone, the file starts two.
workers = 2
threads = 4
timeout = 30
graceful_timeout = 5
keepalive = 5
# Each worker its own listening socket (SO_REUSEPORT): the kernel spreads new
# connections over the processes (authdemo/gunicorn.conf.py says why).
reuse_port = True
# A 16 KB bearer token must reach the app (and get its 401), as on the site.
limit_request_field_size = 32768
control_socket_disable = True
# No access log by default: a line per request is a write on the hot path.
# `make verifier VERIFIER_ACCESS_LOG=1` (or --access-logfile -) turns it on;
# errors are always logged.
accesslog = None
errorlog = "-"
secure_scheme_headers: dict[str, str] = {}
