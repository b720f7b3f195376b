"""Benchmark: the daily collection run (催收批次) over ~N open cases, and an immediate re-run.

    .venv/bin/python bench/bench_dunning.py [--units 100000] [--months 12]

PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/propfee_dunning) and
add `--test-db-name propfee_dunning_test`. Runs in a throw-away test database.

The data is the fill of bench_aging.py (N units with an owner each, one monthly 物业费 charge per
unit for `--months` months, payments and allocations written in SQL: 60 % on time, 20 % late,
5 % half paid, …), so nearly every unit owes something on 2026-11-27. The shipped policies are
loaded (the default ladder is the company default) and 40 collectors are scoped to the ten
estates (four each). Then, timed, through `dunning_run` (dispatch of messages and documents
excluded: it is per item by nature and runs in the worker afterwards):

1. day 1 (2026-11-27): every unit owing ≥ ¥50 gets a case (~N cases opened), a collector, a
   segment and risk score, and its reminder action;
2. day 3 (2026-11-29): every case enters the phone stage: one action and one task each;
3. day 3 again: the immediate re-run, which must add nothing (nothing was written since the
   last run, so it is answered from that run's marks);
4. day 3 again with `force=True`: the whole plan computed again, which must add nothing too.

The design's targets: the run over 100,000 open cases ≤ 60 s, an immediate re-run ≤ 10 s with
no new actions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_aging import _TMP
from bench_aging import fill as fill_charges
from django.db import connection
from django.test.utils import setup_test_environment, teardown_test_environment

from propfee.collection.models import Action, Case, Task
from propfee.collection.policies import policies_defaults_load
from propfee.collection.services import dunning_run
from propfee.core.bulk import rows_insert
from propfee.core.models import StaffScope, User
from propfee.core.roles import Role
from propfee.estates.models import Company, Estate

DAY1 = dt.date(2026, 11, 27)
DAY3 = dt.date(2026, 11, 29)
COLLECTORS_PER_ESTATE = 4


def staff(company: Company) -> None:
    """Four collectors per estate (whole-estate scopes) and a manager for approvals."""
    estates = list(Estate.objects.filter(company=company).order_by("pk"))
    users = []
    for estate in estates:
        for i in range(COLLECTORS_PER_ESTATE):
            users.append(
                User(username=f"c-{estate.code}-{i}", role=Role.COLLECTOR, company=company)
            )
        users.append(User(username=f"m-{estate.code}", role=Role.MANAGER, company=company))
    User.objects.bulk_create(users)
    by_name = dict(User.objects.filter(company=company).values_list("username", "pk"))
    rows = []
    for estate in estates:
        for i in range(COLLECTORS_PER_ESTATE):
            rows.append((by_name[f"c-{estate.code}-{i}"], estate.pk, None))
        rows.append((by_name[f"m-{estate.code}"], estate.pk, None))
    rows_insert(StaffScope, ("user_id", "estate_id", "building_id"), rows)


PROFILE = "--profile" in sys.argv
QUERIES = "--queries" in sys.argv


def timed(label: str, company: Company, day: dt.date, force: bool = False) -> tuple[float, dict]:
    before = (Action.objects.count(), Task.objects.count())
    if PROFILE:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if QUERIES:
        from django.test.utils import CaptureQueriesContext

        capture = CaptureQueriesContext(connection)
        capture.__enter__()
    started = time.perf_counter()
    report = dunning_run(company=company, as_of=day, actor=None, dispatch=False, force=force)
    seconds = time.perf_counter() - started
    if QUERIES:
        capture.__exit__(None, None, None)
        slowest = sorted(capture.captured_queries, key=lambda q: -float(q["time"]))[:6]
        for q in slowest:
            print(f"    {float(q['time']):7.2f} s  {q['sql'][:220]}")
    if PROFILE:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
    after = (Action.objects.count(), Task.objects.count())
    print(
        f"  {label:28} {seconds:8.2f} s   opened {report.cases_opened:,}, "
        f"actions +{after[0] - before[0]:,}, tasks +{after[1] - before[1]:,}, "
        f"open cases {report.cases_open:,}",
        flush=True,
    )
    return seconds, {"actions": after[0] - before[0], "tasks": after[1] - before[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="profile each run")
    parser.add_argument("--queries", action="store_true", help="print each run's slowest queries")
    parser.add_argument(
        "--test-db-name", help="PostgreSQL: the throw-away database to use (dropped, re-created)"
    )
    args = parser.parse_args()
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(_TMP / "bench.sqlite3")
    elif args.test_db_name:
        connection.settings_dict["TEST"]["NAME"] = args.test_db_name
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        company_id = fill_charges(args.units, args.months)
        company = Company.objects.get(pk=company_id)
        policies_defaults_load(company)
        staff(company)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        fill_s = time.perf_counter() - started
        print(f"database            {connection.vendor}")
        print(
            f"machine             {platform.machine()}, {os.cpu_count()} cores,"
            f" Python {platform.python_version()}"
        )
        print(f"date                {dt.date.today().isoformat()}")
        print(f"units × months      {args.units:,} × {args.months} (filled in {fill_s:.1f} s)")
        first, _ = timed(f"day 1 {DAY1} (open)", company, DAY1)
        third, _ = timed(f"day 3 {DAY3} (phone)", company, DAY3)
        again, added = timed("day 3 again (re-run)", company, DAY3)
        full, full_added = timed("day 3 again, --force", company, DAY3, force=True)
        open_cases = Case.objects.filter(company=company, status="open").count()
        print(f"open cases          {open_cases:,}")
        print(
            f"targets             run ≤ 60 s: {'met' if max(first, third) <= 60 else 'MISSED'};"
            f" re-run ≤ 10 s with nothing new: "
            f"{'met' if again <= 10 and not added['actions'] and not added['tasks'] else 'MISSED'}"
        )
        print(f"forced re-run       {full:.2f} s, added {full_added}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
