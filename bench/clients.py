"""Many clients: loads that rotate through thousands of distinct credentials per mechanism.

The one-credential loads of bench/http.py measure a warm path that a single
user keeps hot. Here ``mint_credentials`` creates CLIENTS users in bulk and
logs each of them in through the site's own code: Django's ``login()`` (the
test client's ``force_login``, so the app's login signal stamps the session
as a form login does) for a session, ``api.logins.token_pair_issue`` for a
bearer login and for a cookie login. Each credential becomes one header line
in a file, and ``rotate_script`` is a wrk script that reads the file and
sends the next credential with every request, each wrk thread from its own
offset.

``measure_block`` measures one rotating load on its own: a cold pass (each
credential's first request), untimed warm passes, then rounds in which the
rotating load and its mechanism's one-credential load run back to back, so
their ratio is taken within each round as elsewhere in the bench. Warm means
what it says for an active client: each credential comes back within
seconds (the block reports how many), well inside every per-process
lifetime (user snapshot, session activity stamp, near cache). Run inside the
bench's rounds of some 30 loads, a credential came back only every 5-6
minutes (10-13 per worker process): a returning client, whose state those
lifetimes had let go, which is the cold figure's question.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.measure import WRK_RECONNECT_EVERY as RECONNECT_EVERY
from bench.measure import WRK_SCRIPT, wrk_run
from bench.servers import manage
from bench.wire import WRK_PASS_DONE, BenchError, Load, Server, auth_is

CLIENTS = 10_000
CLIENT_PREFIX = "bench-client-"
# Untimed passes over every credential between the cold pass and the timed
# rounds: connections land on either worker process, and each process fills
# its own cache, so after the cold pass and k passes a process has seen a
# credential with probability 1 - 2**-(k+1) (two processes); the rest fill
# during the rounds, which the share of requests that reached the database shows.
WARM_PASSES = 4
# The per-process caches' bound the many-clients loads need. Counted in a
# process after each client's three requests: five entries per client in the
# embedded cache (the session and the user snapshot it keys, the two token
# families, the token side's user snapshot), six in the near cache (also the
# user's version key, held as absent); seven leave room for the rest. Six
# exactly filled the near cache of a process that had met every client, which
# then emptied itself once per pass. The default (10 000 entries) holds 2 000
# such clients: at the bound the cache drops its least recently read third,
# which in a rotation is the next to be asked for, so every request misses.
CACHE_ENTRIES_PER_CLIENT = 7


def cache_entries(clients: int) -> int:
    """Return LOCAL_CACHE_MAX_ENTRIES and NEAR_CACHE_MAX_ENTRIES for ``clients`` rotating clients."""
    return max(10_000, CACHE_ENTRIES_PER_CLIENT * clients)


# The verified-token memory they need (JWT_VERIFIED_CACHE_SIZE): each client's two
# access tokens (a bearer and a cookie login), plus the default's 4 096 for the rest.
# Below the rotation's size an LRU map misses on every request, as above.
VERIFIED_TOKENS_PER_CLIENT = 2


def verified_entries(clients: int) -> int:
    """Return JWT_VERIFIED_CACHE_SIZE for ``clients`` rotating clients."""
    return 4096 + VERIFIED_TOKENS_PER_CLIENT * clients


# The loads: the one-credential mechanism each rotates through, and the answer that proves it.
CLIENT_LOADS = {
    "session-clients": "session",
    "jwt-bearer-clients": "jwt-bearer",
    "jwt-cookie-clients": "jwt-cookie",
}

MINT_SCRIPT = """
import json
from pathlib import Path
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from api import logins
from usernames import username_canonical, username_skeleton
from api.models import TokenFamily
User = get_user_model()
count, prefix, out = {count!r}, {prefix!r}, Path({out!r})
names = [f"{{prefix}}{{i:05d}}" for i in range(count)]
have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
new = []
for name in names:
    if name not in have:
        # No password: these users never log in by form; an address under .invalid (RFC 2606).
        # bulk_create skips save(): the canonical key and skeleton that save() keeps are set here.
        user = User(
            username=name,
            username_key=username_canonical(name),
            username_skeleton=username_skeleton(name),
            email=f"{{name}}@bench.invalid",
        )
        user.set_unusable_password()
        new.append(user)
User.objects.bulk_create(new, batch_size=1000)
users = list(User.objects.filter(username__in=names).order_by("username"))
client = Client()
lines = {{"session": [], "jwt-bearer": [], "jwt-cookie": []}}
for start in range(0, len(users), 500):
    with transaction.atomic():
        for user in users[start:start + 500]:
            client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            lines["session"].append(f"Cookie: {{settings.SESSION_COOKIE_NAME}}={{session}}")
            client.cookies.clear()
            bearer = logins.token_pair_issue(user=user, transport=TokenFamily.Transport.BEARER)
            lines["jwt-bearer"].append(f"Authorization: Bearer {{bearer.access}}")
            cookie = logins.token_pair_issue(user=user, transport=TokenFamily.Transport.COOKIE)
            lines["jwt-cookie"].append(f"Cookie: {{settings.JWT_ACCESS_COOKIE}}={{cookie.access}}")
for mechanism, found in lines.items():
    (out / f"{{mechanism}}.txt").write_text("\\n".join(found) + "\\n")
print("BENCHJSON " + json.dumps({{"users": len(users), "created": len(new)}}))
"""

_CLIENTS_DELETE = (
    "from django.contrib.auth import get_user_model; "
    "get_user_model().objects.filter(username__startswith={prefix!r}).delete()"
)

# Rotation: each request carries the next credential of the file; wrk's
# threads start THREADS apart in it, so two threads never send the same one
# together. Every RECONNECT_EVERY-th request closes its connection, as in
# WRK_SCRIPT (bench/http.py says why). With PASSES > 0 a thread stops after
# its share of PASSES passes over the file and says so (wrk_exec then ends
# the run). The report is WRK_SCRIPT's.
_ROTATE = r"""
local creds, n, sent, pos = {}, 0, 0, 0
local started = 0
setup = function(thread)
  thread:set("thread_index", started)
  started = started + 1
end
init = function(args)
  for line in io.lines(CREDENTIALS_FILE) do
    local name, value = line:match("^([^:]+):%s*(.+)$")
    if name then
      n = n + 1
      creds[n] = {name, value}
    end
  end
  pos = (START + (thread_index or 0) * math.floor(n / THREADS)) % n
end
request = function()
  sent = sent + 1
  if PASSES > 0 and sent == math.ceil(n * PASSES / THREADS) + 1 then
    io.write(PASS_DONE_LINE)
    io.flush()
    wrk.thread:stop()
  end
  pos = pos % n + 1
  local headers = {[creds[pos][1]] = creds[pos][2]}
  if sent % RECONNECT_EVERY == 0 then headers["Connection"] = "close" end
  return wrk.format(nil, nil, headers)
end
"""


def rotate_script(
    credentials: Path, *, threads: int, reconnect_every: int, passes: int = 0, start: int = 0
) -> str:
    """Return the wrk script that rotates through the header lines of ``credentials``.

    ``passes`` > 0: the run ends after that many passes over them (each thread its share).
    ``start``: each thread's first credential is this many past its offset (a run that
    goes on where the last one stopped).
    """
    report = WRK_SCRIPT[WRK_SCRIPT.index("done = function") :]
    rotate = (
        _ROTATE.replace("CREDENTIALS_FILE", json.dumps(str(credentials)))
        .replace("PASS_DONE_LINE", json.dumps(WRK_PASS_DONE + "\n"))
        .replace("PASSES", str(passes))
        .replace("RECONNECT_EVERY", str(reconnect_every))
        .replace("THREADS", str(max(1, threads)))
        .replace("START", str(start))
    )
    return rotate + "\n" + report


def first_credential(credentials: Path) -> dict[str, str]:
    """Return the first header line of ``credentials`` as a header dict (the load's hand check)."""
    for line in credentials.read_text().splitlines():
        name, sep, value = line.partition(":")
        if sep and value.strip():
            return {name.strip(): value.strip()}
    raise BenchError(f"{credentials}: no credential")


def mint_credentials(server: Server, out: Path, *, count: int) -> dict:
    """Create ``count`` bench users on ``server``'s database and one credential each per mechanism in ``out``.

    Idempotent: users that exist are reused, and every run mints new credentials for them.
    """
    out.mkdir(parents=True, exist_ok=True)
    # The server's own settings: production mode, as `make serve` exports it.
    env = {**server.env, "DJANGO_DEBUG": "0"}
    script = MINT_SCRIPT.format(count=count, prefix=CLIENT_PREFIX, out=str(out))
    stdout = manage(env, "shell", "-c", script)
    report = next((line for line in stdout.splitlines() if line.startswith("BENCHJSON ")), None)
    if report is None:
        raise BenchError(f"{server.name}: minting {count} credentials printed no report")
    return json.loads(report[len("BENCHJSON ") :])


def clients_delete(server: Server) -> None:
    """Delete the bench's many-clients users (their sessions and logins go with them)."""
    manage({**server.env, "DJANGO_DEBUG": "0"}, "shell", "-c", _CLIENTS_DELETE.format(prefix=CLIENT_PREFIX))


def client_loads(server: Server, folder: Path, *, threads: int, reconnect_every: int) -> list[Load]:
    """Return one rotating load per mechanism of the credentials in ``folder`` (mint_credentials)."""
    loads = []
    for mechanism, base in CLIENT_LOADS.items():
        credentials = folder / f"{base}.txt"
        script = folder / f"{base}.lua"
        script.write_text(rotate_script(credentials, threads=threads, reconnect_every=reconnect_every))
        check = auth_is(base)
        loads.append(Load(server, mechanism, "/api/me/", first_credential(credentials), check, script=script))
    return loads


def credential_count(load: Load) -> int:
    """Return how many credentials a rotating load sends (0 for a one-credential load)."""
    if load.script is None:
        return 0
    base = CLIENT_LOADS.get(load.mechanism)
    path = load.script.with_name(f"{base}.txt")
    return sum(1 for line in path.read_text().splitlines() if line.strip()) if path.is_file() else 0


def pass_load(load: Load, *, passes: int, threads: int, reconnect_every: int) -> Load:
    """Return ``load`` with a script that ends after ``passes`` passes over its credentials."""
    if load.script is None:
        raise BenchError(f"{load.label}: not a rotating load")
    credentials = load.script.with_name(f"{CLIENT_LOADS[load.mechanism]}.txt")
    script = load.script.with_name(f"{load.script.stem}-{passes}-passes.lua")
    script.write_text(
        rotate_script(credentials, threads=threads, reconnect_every=reconnect_every, passes=passes)
    )
    return dataclasses.replace(load, script=script, runs=[], cold=None)


def from_offset(load: Load, *, start: int, threads: int, reconnect_every: int) -> Load:
    """Return ``load`` with a script whose threads begin ``start`` credentials past their offsets."""
    credentials = load.script.with_name(f"{CLIENT_LOADS[load.mechanism]}.txt")
    script = load.script.with_name(f"{load.script.stem}-from-{start}.lua")
    script.write_text(
        rotate_script(credentials, threads=threads, reconnect_every=reconnect_every, start=start)
    )
    return dataclasses.replace(load, script=script)


def pass_seconds(load: Load, *, passes: int) -> float:
    """Return the -d of a run of ``passes`` passes: a cap at 25 req/s, should it never say it is done."""
    return 60 + credential_count(load) * passes / 25


def measure_block(
    load: Load,
    one: Load,
    *,
    rounds: int,
    seconds: float,
    threads: int,
    connections: int,
    script: Path,
    say: Callable[[str], None],
) -> None:
    """Measure rotating ``load`` in its own block: cold pass, warm passes, then rounds beside ``one``.

    ``one`` is the mechanism's one-credential load: its runs here go to
    ``load.pair_runs``, the rotating runs to ``load.runs``; ``one.runs`` (the
    bench's rounds) are left as they are.
    """
    wrk = {"threads": threads, "connections": connections, "script": script}
    say(f"cold: {load.label}, one pass (each credential's first request)")
    first = pass_load(load, passes=1, threads=threads, reconnect_every=RECONNECT_EVERY)
    load.cold = wrk_run(first, seconds=pass_seconds(first, passes=1), **wrk)
    say(f"warm-up: {WARM_PASSES} passes, untimed")
    warm = pass_load(load, passes=WARM_PASSES, threads=threads, reconnect_every=RECONNECT_EVERY)
    wrk_run(warm, seconds=pass_seconds(warm, passes=WARM_PASSES), **wrk)
    load.rss_peak_kib = max(first.rss_peak_kib, warm.rss_peak_kib)
    say(f"{rounds} rounds x {seconds:g} s, beside {one.label}")
    started, sent = time.monotonic(), 0
    for r in range(rounds):
        # Each run goes on where the last one stopped, so the rounds rotate through every credential.
        rotating = from_offset(
            load, start=sent // max(1, threads), threads=threads, reconnect_every=RECONNECT_EVERY
        )
        for each in (rotating, one) if r % 2 == 0 else (one, rotating):
            run = wrk_run(each.renewed(), seconds=seconds, **wrk)
            (load.runs if each is rotating else load.pair_runs).append(run)
            sent += run["requests"] if each is rotating else 0
        load.rss_peak_kib = max(load.rss_peak_kib, rotating.rss_peak_kib)
    if sent:
        load.revisit_seconds = round(credential_count(load) * (time.monotonic() - started) / sent, 1)


def block_summary(load: Load) -> dict:
    """Return a rotating load's cold run (req/s, p99, errors, SQL share) and its block's paired runs.

    Empty for any other load; ``summarize`` gives the rest.
    """
    if load.cold is None:
        return {}
    run = load.cold
    errors = run["non2xx"] + run["connect"] + run["read"] + run["write"] + run["timeout"]
    pair = [r["requests"] / (r["duration_us"] / 1e6) for r in load.pair_runs]
    return {
        "one_rps_rounds": [round(x, 1) for x in pair],
        "one_rps": round(statistics.median(pair), 1) if pair else None,
        "revisit_seconds": load.revisit_seconds,
        "cold": {
            "rps": round(run["requests"] / (run["duration_us"] / 1e6), 1),
            "requests": run["requests"],
            "p99_ms": round(run["p99_us"] / 1000, 2),
            "errors": errors,
            "db_share": run.get("db_share"),
            "worker_rss_mib": max(run.get("worker_rss_mib") or [0]),
        },
    }
