"""`python -m simulation [--seed N] [--operations N] [--clients N] [--keep]`; see docs/simulation.md."""

import argparse
import os
import random
import sys

from .run import Options, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulation", description=__doc__)
    parser.add_argument("--seed", type=int, default=None, help="replay this seed (default: a new random one)")
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the database sim_<seed> and the logs")
    parser.add_argument("--database", default="", help="database name (default sim_<seed>); created and dropped")
    parser.add_argument("--drain-seconds", type=float, default=240.0, help="deadline for the drain phase")
    parser.add_argument("--report-json", default="", help="also write the report as JSON to this file")
    parser.add_argument("--no-chaos", action="store_true", help="no killed workers or connections (debugging)")
    parser.add_argument(
        "--focus",
        choices=["default", "payout-retries"],
        default="default",
        help="payout-retries: payouts keep failing while the worker's database connections drop every half second",
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(os.environ.get("SEED") or random.SystemRandom().randrange(10**6))
    options = Options(
        seed=seed,
        operations=args.operations,
        clients=args.clients,
        keep=args.keep,
        database=args.database,
        drain_seconds=args.drain_seconds,
        report_json=args.report_json,
        chaos=not args.no_chaos,
        focus=args.focus,
    )
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
