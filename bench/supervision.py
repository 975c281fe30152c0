"""The supervision benchmark of issue 18, one command: the anomaly rules over 1,000,000 cases
(`bench.supervision_anomalies`) and the dual-track judgement of 10,000 windows' day with its detection
and false-alarm rates (`bench.supervision_dualtrack`), each run as its own module; their RESULT lines
end the output together.

    python -m bench.supervision [--pg-url postgresql://…]
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence

logger = logging.getLogger(__name__)

PARTS = ("bench.supervision_anomalies", "bench.supervision_dualtrack")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.supervision", description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("HALLWATCH_BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    results: list[str] = []
    failed = 0
    for module in PARTS:
        command = [sys.executable, "-m", module, *(["--pg-url", args.pg_url] if args.pg_url else [])]
        # Each part in a process of its own: one's memory and caches never weigh on the other's timing.
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        results += [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        failed |= done.returncode
    print("\n".join(results), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
