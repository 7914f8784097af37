# authdemo: `make run` serves the embedded demo, `make test` runs the suite.
# Needs only Python 3.11+, make and PyPI. Every target is idempotent: the
# virtualenv is (re)installed only when a requirements file changed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# The stateless verifier (verifier/): its port, and the site it trusts (its
# JWKS on PORT, and the browser origins of its pages).
VERIFIER_PORT ?= 8001
JWKS_URL ?= http://127.0.0.1:$(PORT)/.well-known/jwks.json
# The host name `make run` is opened at: localhost on the loopback address (passkeys need a name).
RUN_SITE_HOST = $(if $(filter 127.0.0.1 localhost,$(HOST)),localhost,$(HOST))
VERIFIER_ALLOWED_ORIGINS ?= http://127.0.0.1:$(PORT),http://localhost:$(PORT)
# Its worker processes (default: the CPU count, at least 2); VERIFIER_ACCESS_LOG=1
# adds one access-log line per request (off by default: hot path).
VERIFIER_WORKERS ?= $(SERVE_WORKERS)
VERIFIER_ACCESS_LOG ?=
VERIFIER = env JWKS_URL='$(JWKS_URL)' VERIFIER_ALLOWED_ORIGINS='$(VERIFIER_ALLOWED_ORIGINS)' \
	$(BIN)/gunicorn --config verifier/gunicorn.conf.py --bind $(HOST):$(VERIFIER_PORT) \
	--workers $(VERIFIER_WORKERS)$(if $(filter 1 yes true,$(VERIFIER_ACCESS_LOG)), --access-logfile -)
# `make serve`: worker processes (default: CPU count, at least 2), in every mode.
# Threads per worker process (authdemo/gunicorn.conf.py: measured; empty = 4 embedded, 2 with REDIS_URL).
SERVE_THREADS ?=
SERVE_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -ge 2 ] 2>/dev/null || n=2; echo $$n)
MANAGE := $(BIN)/python manage.py
# The embedded default's secrets (var/secret_key, var/jwt/signing_key.pem):
# created once, never overwritten; nothing is written for what the
# environment provides (DJANGO_SECRET_KEY, JWT_PRIVATE_KEY(_FILE)).
INIT_SECRETS := $(MANAGE) init_secrets --verbosity 0
# The test suites' settings take the embedded secret key whatever DJANGO_DEBUG says.
TEST_INIT_SECRETS := DJANGO_SETTINGS_MODULE=authdemo.test_settings $(INIT_SECRETS)
# Installs stay quiet and never prompt (CI has no stdin).
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input

.PHONY: help run serve verifier test lint bench bench-passwords bench-size prune e2e fuzz clean

help:
	@echo "make run    - embedded demo on http://$(RUN_SITE_HOST):$(PORT) (SQLite, demo user)"
	@echo "make test   - the whole pytest suite (follows DATABASE_URL / REDIS_URL)"
	@echo "make serve  - production mode under gunicorn (needs DJANGO_SECRET_KEY)"
	@echo "make verifier - stateless token verifier on http://$(HOST):$(VERIFIER_PORT)/whoami"
	@echo "make lint   - ruff"
	@echo "make bench  - session vs JWT: in process, then over HTTP (wrk) beside the peers; writes var/bench/"
	@echo "make bench-passwords - time one Argon2id hash per OWASP row on this machine"
	@echo "make bench-size - admin lists, login pages and pruning at size (seed_load); writes var/bench/"
	@echo "make prune  - delete expired sessions and tokens in batches (daily: docs/maintenance.md)"
	@echo "make e2e    - browser tests (Playwright + system chromium)"
	@echo "make fuzz   - schema-driven fuzzing of the API (schemathesis)"

# --- virtualenv ---------------------------------------------------------------
# Stamp files record what was installed; make compares their age with the
# requirements files, so a second call installs nothing.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "authdemo needs Python 3.11+ ($(PYTHON) is older); run: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(BIN)/python
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime-installed

$(VENV)/.e2e-installed: requirements-e2e.txt requirements-dev.txt requirements.txt | $(BIN)/python
	$(PIP) install --quiet -r requirements-e2e.txt
	@touch $@ $(VENV)/.dev-installed $(VENV)/.runtime-installed

$(VENV)/.fuzz-installed: requirements-fuzz.txt requirements-dev.txt requirements.txt | $(BIN)/python
	$(PIP) install --quiet -r requirements-fuzz.txt
	@touch $@ $(VENV)/.dev-installed $(VENV)/.runtime-installed

# --- targets ------------------------------------------------------------------
# Development server on the embedded default. DJANGO_DEBUG defaults to 1 here
# only. The demo user exists only without DATABASE_URL (embedded SQLite).
# The stateless verifier runs beside it and stops with it.
# SITE_URL (the address in password-reset links, and the passkeys' relying
# party) is this server's own: on the loopback address http://localhost:PORT,
# since WebAuthn refuses an IP address as the RP ID; localhost is then an
# allowed host too.
# DJANGO_DEBUG=0 make run: production settings on the development server; it
# needs DJANGO_SECRET_KEY, and collects the static files first (the manifest
# storage of production refuses to render a page without them).
run: $(VENV)/.runtime-installed
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-1}; \
	if [ -z "$${SITE_URL:-}" ]; then \
		SITE_URL=http://$(RUN_SITE_HOST):$(PORT); \
		if [ -n "$${DJANGO_ALLOWED_HOSTS:-}" ]; then \
			case ",$$DJANGO_ALLOWED_HOSTS," in *,$(RUN_SITE_HOST),*) ;; \
				*) export DJANGO_ALLOWED_HOSTS="$$DJANGO_ALLOWED_HOSTS,$(RUN_SITE_HOST)";; esac; \
		fi; \
	fi; \
	export SITE_URL; \
	if [ "$$DJANGO_DEBUG" = 0 ]; then \
		if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
			echo "make run: DJANGO_DEBUG=0 is production mode and needs DJANGO_SECRET_KEY (or leave DJANGO_DEBUG unset)." >&2; \
			exit 1; \
		fi; \
		$(MANAGE) collectstatic --noinput --verbosity 0 || exit 1; \
		echo "Production settings: plain HTTP is redirected to HTTPS unless DJANGO_SECURE_SSL_REDIRECT=0."; \
	fi; \
	$(INIT_SECRETS) && \
	$(MANAGE) migrate --noinput && \
	{ if [ -z "$${DATABASE_URL:-}" ]; then $(MANAGE) demo_user; fi; } || exit $$?; \
	$(VERIFIER) & verifier=$$!; \
	trap 'kill $$verifier 2>/dev/null; wait $$verifier' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	echo "Stateless verifier on http://$(HOST):$(VERIFIER_PORT)/whoami (no database, no Redis; keys from $(JWKS_URL))"; \
	echo "Serving on $(HOST):$(PORT): open $$SITE_URL/ (Ctrl-C stops both)"; \
	VERIFIER_URL=$${VERIFIER_URL:-http://$(HOST):$(VERIFIER_PORT)} $(MANAGE) runserver $(HOST):$(PORT)

# Production mode: DEBUG off, the environment decides database and cache.
# SERVE_WORKERS processes in every mode: what one request leaves for another
# (login limits, lab runs) is in the shared cache, Redis or else the database;
# without Redis, the revocation log in var/ tells every process of the
# host to stop trusting its own cache (docs/operations.md).
# GUNICORN_ACCESS_LOG=1: one access-log line per request on stdout (off by default: hot path).
serve: $(VENV)/.runtime-installed
	@if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
		echo "make serve: DJANGO_SECRET_KEY is not set. Production mode needs a secret key, e.g." >&2; \
		echo "  export DJANGO_SECRET_KEY=\"\$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')\"" >&2; \
		exit 1; \
	fi
	@export DJANGO_DEBUG=0; workers=$(SERVE_WORKERS); \
	if [ -n "$${REDIS_URL:-}" ]; then threads=$(or $(SERVE_THREADS),2); else threads=$(or $(SERVE_THREADS),4); fi; \
	$(INIT_SECRETS) && \
	$(MANAGE) migrate --noinput && \
	$(MANAGE) demo_user --check && \
	$(MANAGE) collectstatic --noinput --verbosity 0 && \
	$(MANAGE) check --deploy && \
	echo "gunicorn on http://$(HOST):$(PORT)/ with $$workers worker process(es) x $$threads threads" && \
	exec $(BIN)/gunicorn --config authdemo/gunicorn.conf.py --bind $(HOST):$(PORT) --workers $$workers \
		--threads $$threads \
		$(if $(filter 1 yes true,$(GUNICORN_ACCESS_LOG)),--access-logfile -)

# The stateless verifier alone: checks the site's access tokens from its JWKS,
# with no database and no Redis (docs/verifier.md).
verifier: $(VENV)/.runtime-installed
	@echo "Stateless verifier on http://$(HOST):$(VERIFIER_PORT)/whoami (keys from $(JWKS_URL))"
	@exec $(VERIFIER)

test: $(VENV)/.dev-installed
	@$(TEST_INIT_SECRETS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

# Per-request cost of each authentication mechanism (not part of `make test`):
# in process, then over HTTP under `make serve` beside the reference peers.
# Needs wrk (apt-get install wrk; installed when run as root) and, for the
# Express peer, node and npm (apt-get install nodejs npm).
# BENCH_PEERS_DIR: folder of the reference servers (default bench/peers).
# A run writes var/bench/<UTC time>/; BENCH_OUT=docs/bench replaces the
# committed results that the home page cites.
BENCH_PEERS_DIR ?= bench/peers
BENCH_OUT ?=
bench: $(VENV)/.runtime-installed
	@DJANGO_SETTINGS_MODULE=bench.settings $(INIT_SECRETS)
	$(BIN)/python -m bench --peers-dir "$(BENCH_PEERS_DIR)" $(if $(BENCH_OUT),--out "$(BENCH_OUT)") $(BENCH_ARGS)

bench-passwords: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.passwords

# Pages and pruning at size (bench/size.py): seeds DATABASE_URL's database
# with seed_load (SIZE_USERS, SIZE_LOGINS: default 100 000 / 1 000 000 on
# PostgreSQL), or without DATABASE_URL var/bench-size.sqlite3 (2 000 / 20 000).
# Writes var/bench/size-<UTC time>/; BENCH_OUT=docs/bench writes docs/bench/size.md.
SIZE_USERS ?=
SIZE_LOGINS ?=
bench-size: $(VENV)/.runtime-installed
	$(if $(DATABASE_URL),,DATABASE_URL=sqlite:///$(CURDIR)/var/bench-size.sqlite3) $(BIN)/python -m bench.size \
		$(if $(SIZE_USERS),--users $(SIZE_USERS)) $(if $(SIZE_LOGINS),--logins $(SIZE_LOGINS)) \
		$(if $(BENCH_OUT),--out "$(BENCH_OUT)")

# Expired sessions, then expired token families with their tokens, in short
# batches (docs/maintenance.md: the cron line and systemd timer).
prune: $(VENV)/.runtime-installed
	$(MANAGE) clearsessions
	$(MANAGE) jwt_prune

# Browser tests against a live server; drives the system chromium, downloads no browser.
e2e: $(VENV)/.e2e-installed
	@$(TEST_INIT_SECRETS)
	$(BIN)/python -m pytest e2e -p no:cacheprovider $(PYTEST_ARGS)

# Requests generated from /api/schema/ (schemathesis, a fixed number per
# operation): no 5xx, every answer as documented. Not part of `make test`.
fuzz: $(VENV)/.fuzz-installed
	@$(TEST_INIT_SECRETS)
	$(BIN)/python -m pytest fuzz -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV)
