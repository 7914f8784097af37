"""`make bench-passwords`: time one Argon2id hash for each row of OWASP's password storage table.

OWASP's Password Storage Cheat Sheet lists equivalent Argon2id rows (p=1):
m=46 MiB t=1, m=19 MiB t=2, m=12 MiB t=3, m=9 MiB t=4, m=7 MiB t=5. This
times each on this machine, next to Django's own defaults and the hasher
authdemo uses, so the choice in accounts/hashers.py can be checked here.

    .venv/bin/python -m bench.passwords [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from argon2.low_level import Type, hash_secret

OWASP_ROWS = [(46, 1), (19, 2), (12, 3), (9, 4), (7, 5)]


def hash_time(*, memory_mib: int, time_cost: int, parallelism: int, repeat: int) -> list[float]:
    """Return the seconds of each of `repeat` Argon2id hashes with these parameters."""
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        hash_secret(
            b"correct horse battery staple",
            f"benchsalt{i:07d}".encode(),
            time_cost=time_cost,
            memory_cost=memory_mib * 1024,
            parallelism=parallelism,
            hash_len=32,
            type=Type.ID,
        )
        times.append(time.perf_counter() - start)
    return times[1:]  # the first pays page faults of a fresh allocation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.passwords", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="hashes per row (default 9)")
    args = parser.parse_args(argv)

    from django.contrib.auth.hashers import Argon2PasswordHasher

    from accounts.hashers import BoundedArgon2idHasher

    rows = [(f"OWASP m={m} MiB, t={t}, p=1", m, t, 1) for m, t in OWASP_ROWS]
    django = Argon2PasswordHasher
    rows.append(("Django default", django.memory_cost // 1024, django.time_cost, django.parallelism))
    chosen = BoundedArgon2idHasher
    chosen_key = (chosen.memory_cost // 1024, chosen.time_cost, chosen.parallelism)
    print(f"Argon2id, one hash, median and min of {args.repeat} (ms)")
    print(f"  {'row':<28} {'median':>8} {'min':>8}  memory per hash")
    for label, m, t, p in rows:
        times = hash_time(memory_mib=m, time_cost=t, parallelism=p, repeat=args.repeat)
        mark = "  <- accounts.hashers" if (m, t, p) == chosen_key else ""
        print(
            f"  {label:<28} {statistics.median(times) * 1e3:>8.1f} {min(times) * 1e3:>8.1f}  "
            f"{m} MiB (p={p}){mark}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
