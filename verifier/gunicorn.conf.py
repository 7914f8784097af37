"""gunicorn configuration of the stateless verifier (`make verifier`, `make run`).

One worker process, threads for concurrency: the JWKS cache and its refetch
rate limit live in the process. The Makefile passes --bind.
"""

wsgi_app = "verifier.app:application_from_env()"
worker_class = "gthread"
workers = 1
threads = 8
timeout = 30
graceful_timeout = 5
keepalive = 5
# A 16 KB bearer token must reach the app (and get its 401), as on the site.
limit_request_field_size = 32768
control_socket_disable = True
accesslog = "-"
errorlog = "-"
secure_scheme_headers: dict[str, str] = {}
