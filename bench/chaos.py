"""The whole system under chaos, at scale: N citizens through whole journeys while
every service is SIGKILLed at random moments and restarted, plus one cut of every
service's PostgreSQL database. Prints the figures.

Starts its own embedded stack (Tansu, SMTP catcher, five service processes)
with a fresh database per instance on the local PostgreSQL (TEST_POSTGRES_DSN,
default postgresql://postgres@127.0.0.1:5432/postgres); the databases are
dropped afterwards. The same machinery as tests/faults/test_chaos.py
(tests/faults/chaos_kit.py); see there for what is checked.

    python bench/chaos.py --citizens 1000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "faults"))

import chaos_kit as kit  # noqa: E402

from brobygger_stack.testing import LOCAL_POSTGRES, database_factory  # noqa: E402


async def main(args: argparse.Namespace) -> int:
    arrival = args.arrival_seconds or max(40.0, args.citizens / 3)
    cfg = kit.ChaosConfig(
        citizens=args.citizens, arrival_seconds=arrival, kill_gap=(args.kill_gap_min, args.kill_gap_max),
        min_kills=args.min_kills, max_down=args.max_down, cut_seconds=args.cut_seconds,
        flow_timeout=max(300.0, arrival), settle_timeout=300.0, referrer_mails=args.referrer_mails, seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="brobygger-chaos-") as scratch:
        async with database_factory(LOCAL_POSTGRES, Path(scratch)) as make:
            instances = kit.chaos_instances()
            databases = {f"{i.package}@{i.org_id}": await make(i.package) for i in instances}
            workdir = Path(args.keep_logs) if args.keep_logs else Path(scratch) / "stack"
            stack = kit.make_stack(workdir, f"chaos{uuid.uuid4().hex[:8]}", None, databases, instances, extra_env={})
            print(f"starting the embedded stack (Tansu, SMTP catcher, {len(instances)} services on PostgreSQL) ...")
            await asyncio.to_thread(stack.start)
            try:
                report = await kit.run_chaos(stack, databases, LOCAL_POSTGRES, cfg,
                                             say=lambda line: print(line, flush=True))
            finally:
                await asyncio.to_thread(stack.stop)
    print()
    print(report.table())
    details = report.details()
    if details:
        print()
        print(details)
    clean = (report.lost == 0 and report.duplicates == 0 and not report.inversions and not report.dead_letters
             and report.completed == report.citizens and report.lag_to_zero_seconds is not None)
    print()
    print("verdict: " + ("nothing lost, nothing done twice, nothing reordered, no dead letters" if clean
                         else "FAULTS FOUND (see above)"))
    return 0 if clean else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--arrival-seconds", type=float, default=None,
                        help="referrals arrive evenly over this long, the faults meanwhile (default: N/3, at least 40)")
    parser.add_argument("--kill-gap-min", type=float, default=5.0)
    parser.add_argument("--kill-gap-max", type=float, default=15.0)
    parser.add_argument("--min-kills", type=int, default=10)
    parser.add_argument("--max-down", type=int, default=2, help="at most this many instances down at once")
    parser.add_argument("--cut-seconds", type=float, default=10.0)
    parser.add_argument("--referrer-mails", action="store_true",
                        help="also enter the referring organisation as a referrer contact (milestone e-mails)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep-logs", default=None, help="a directory for the stack's logs and mail, kept afterwards")
    sys.exit(asyncio.run(main(parser.parse_args())))
