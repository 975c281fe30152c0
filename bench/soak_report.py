"""The soak's verdict: what central holds against what the agents' outboxes took (exactly once), the
per-phase table, and the RESULT lines."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, union_all

from bench.soak_faults import Fault
from bench.soak_metrics import (
    TARGET_S,
    Gauges,
    Phase,
    Sample,
    latency,
    pct,
    phase_of,
    recovery,
    steady,
    unexplained,
)
from bench.soak_plan import AgentsResult, ClientsResult
from central.core.db import make_engine
from central.ratings.models import KeypadPress
from central.video.models import Evidence, PresenceInterval, VisitorCount

logger = logging.getLogger(__name__)

TARGET_RECOVERY_S = 30.0
TARGET_GROWTH_PCT = 10.0


@dataclass(frozen=True)
class Ledger:
    sent: int
    stored: int
    lost: int  # taken by an outbox, neither at central nor in the outbox any more
    undelivered: int  # still pending in its outbox when the soak ended: kept, to be sent
    duplicated: int  # rows beyond the first of an observation id
    unsent: int  # stored, but no outbox ever took it (a refused put that was stored after all)


def ledger(url: str, sent: dict[str, list[str]], pending: dict[str, list[str]]) -> Ledger:
    """Every tracked observation the outboxes took against the rows central keeps per (device, id) and
    what the outboxes still hold."""
    tables = (KeypadPress, PresenceInterval, VisitorCount, Evidence)
    rows = union_all(*(select(t.device_id, t.observation_id) for t in tables)).subquery()
    query = select(rows.c.device_id, rows.c.observation_id, func.count()).group_by(
        rows.c.device_id, rows.c.observation_id
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        held = Counter({(str(device), obs_id): count for device, obs_id, count in conn.execute(query)})
    engine.dispose()
    wanted = {(device, obs_id) for device, ids in sent.items() for obs_id in ids}
    kept = {(device, obs_id) for device, ids in pending.items() for obs_id in ids}
    missing = wanted - held.keys()
    return Ledger(
        sent=len(wanted),
        stored=len(held),
        lost=len(missing - kept),
        undelivered=len(missing & kept),
        duplicated=sum(count - 1 for count in held.values()),
        unsent=len(held.keys() - wanted),
    )


def _seconds(value: float) -> str:
    return "never" if math.isinf(value) else ("–" if math.isnan(value) else f"{value:.3f}")


def table(cut: Sequence[Phase], presses: Sequence[Sample], shown: Sequence[Sample], agents: AgentsResult,
          clients: ClientsResult, faults: Sequence[Fault], gauges: Gauges) -> Table:  # fmt: skip
    errors = [*agents.errors, *clients.errors]
    odd = {id(e) for e in unexplained(errors, faults)}
    view = Table(
        title="phase by phase: presses → stored, cases → on the screens (seconds, by when each began; "
        "one in flight under 1 s when a fault began is the fault's)"
    )
    for column in (
        "phase",
        "s",
        "presses",
        "p50",
        "p99",
        "cases→screens",
        "p50",
        "p99",
        "errors",
        "unexplained",
        "load",
    ):
        view.add_column(column, justify="left" if column == "phase" else "right", no_wrap=column != "phase")
    for phase in cut:
        if phase.end - phase.start < 1:
            continue
        mine = [latency(s) for s in presses if phase_of(s, cut) is phase]
        seen = [latency(s) for s in shown if phase_of(s, cut) is phase]
        errs = [e for e in errors if phase.holds(e.t)]
        view.add_row(
            phase.name, f"{phase.end - phase.start:.0f}", str(len(mine)), _seconds(pct(mine, 0.5)),
            _seconds(pct(mine, 0.99)), str(len(seen)), _seconds(pct(seen, 0.5)), _seconds(pct(seen, 0.99)),
            str(len(errs)), str(sum(id(e) in odd for e in errs)), f"{gauges.mean_load(phase):.1f}",
        )  # fmt: skip
    return view


def results(*, console: Console, cut: Sequence[Phase], t_end: float, presses: Sequence[Sample],
            shown: Sequence[Sample], faults: Sequence[Fault], counted: Ledger, agents: AgentsResult,
            clients: ClientsResult, growth: tuple[float, float, float] | None) -> list[str]:  # fmt: skip
    """Prints the recovery of each fault and the errors no fault explains; answers the RESULT lines."""
    # Outside the faults and the GRACE_S after each (nan: the run left no such time; inf: one never came)
    steady_press = [latency(s) for s in presses if steady(s, cut)]
    steady_shown = [latency(s) for s in shown if steady(s, cut)]
    recoveries = []
    for n, fault in enumerate(faults):
        following = faults[n + 1].start if n + 1 < len(faults) else t_end
        assert following is not None
        took = recovery(fault, following, [*presses, *shown], next_fault=n + 1 < len(faults))
        recoveries.append(took)
        back = "never (within the run)" if math.isinf(took) else f"{took:.1f} s after it ended"
        console.print(f"{fault.name}: deliveries back to ≤ {TARGET_S:g} s {back}")
    odd = unexplained([*agents.errors, *clients.errors], faults)
    for error in odd[:20]:
        console.print(f"[red]unexplained[/red] {error.source} {error.kind} {error.route}: {error.detail}")
    missed = sum(1 for s in shown if s[2] is None)
    lines = [
        f"RESULT soak_lost {counted.lost} observations target=<=0",
        f"RESULT soak_duplicated {counted.duplicated} observations target=<=0",
        f"RESULT soak_undelivered {counted.undelivered} observations target=<=0",
        f"RESULT soak_press_stored_p99 {pct(steady_press, 0.99):.3f} s target=<={TARGET_S:g}",
        f"RESULT soak_event_display_p99 {pct(steady_shown, 0.99):.3f} s target=<={TARGET_S:g}",
        f"RESULT soak_recovery_max {max(recoveries, default=0.0):.3f} s target=<={TARGET_RECOVERY_S:g}",
        f"RESULT soak_display_missed {missed} deliveries target=<=0",
    ]
    memory = "n/a" if growth is None else f"{growth[2]:.1f}"
    lines.append(f"RESULT soak_memory_growth {memory} % target=<={TARGET_GROWTH_PCT:g}")
    lines.append(f"RESULT soak_unexplained_errors {len(odd)} errors target=<=0")
    return lines


def verdict(
    counted: Ledger, agents: AgentsResult, clients: ClientsResult, faults: Sequence[Fault]
) -> dict[str, Any]:
    """The counts a test checks (never a timing): bench.soak --json writes them."""
    odd = unexplained([*agents.errors, *clients.errors], faults)
    return {
        "sent": counted.sent,
        "lost": counted.lost,
        "duplicated": counted.duplicated,
        "unsent": counted.unsent,
        "undelivered": counted.undelivered,
        "rejected": agents.rejected,
        "cases_pushed": clients.cases_pushed,
        "display_missed": sum(1 for s in clients.samples if s[2] is None),
        "explained_errors": len(agents.errors) + len(clients.errors) - len(odd),
        "unexplained_errors": [e.model_dump() for e in odd],
        "disk_probes": agents.disk_probes,
        "faults": {
            f.key: None if f.start is None or f.end is None else round(f.end - f.start, 1) for f in faults
        },
    }
