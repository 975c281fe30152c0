"""The uploader: pushes outbox rows to central at once, in batches, until central has every one.

`Outbox.put` sets `outbox.arrived`, so a new row is sent as soon as it is stored (no polling delay).
While there is a backlog, batches of up to `batch_size` go back to back (one HTTP request and one
outbox commit per batch), which is what drains an hour's buffer fast. One request is in flight at a
time, so central takes the rows in the order they were stored; while it works on a batch, the
uploader reads the next one from the outbox and marks the one before as delivered, so the edge's own
disk work does not add to the drain.

What central answers decides each row's fate, and nothing else does:
- 200: each result's outcome — "stored"/"duplicate" → delivered; "rejected" → set aside with the
  reason (logged as an error, never retried); an id missing from the results stays pending.
- 422 (malformed) or 413 (too large): the batch is split in halves until the bad row is alone; a
  lone row central refuses as malformed is set aside as rejected with central's answer.
- anything else (network error, timeout, 5xx, 401, 404, …): the whole batch stays pending and is
  sent again after an exponential backoff with jitter, capped at `max_backoff`. Never dropped.
  `nudge()` cuts a backoff short: the agent calls it when its command channel opens again, the
  first sign that central can be reached, so a backlog starts to drain then rather than when the
  backoff, up to `max_backoff` on after a long outage, runs out.

On a full disk the outbox gives its spare file back so the delivery marks still fit; should even they
not, the rows stay pending and go again (central answers "duplicate").
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from edge.central import OBSERVATIONS_PATH
from edge.outbox import Outbox, Pending
from edge.outbox_space import OutboxFull

logger = logging.getLogger(__name__)

DELIVERED_OUTCOMES = frozenset({"stored", "duplicate"})
PRUNE_EVERY_SECONDS = 600.0
DRAIN_POLL_SECONDS = 0.05
IDLE_WAKE_SECONDS = 60.0  # an idle uploader still wakes now and then (pruning, a row put by another process)
LOG_EVERY_NTH_FAILURE = 10


@dataclass
class UploadStats:
    batches: int = 0
    delivered: int = 0
    rejected: int = 0
    failures: int = 0  # failed attempts since the start
    consecutive_failures: int = 0
    nudged: int = 0  # backoffs cut short by nudge()


class Uploader:
    def __init__(
        self,
        outbox: Outbox,
        client: httpx.Client,
        *,
        batch_size: int = 2000,
        batch_max_bytes: int | None = None,
        initial_backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self.batch_max_bytes = batch_max_bytes
        self.initial_backoff = initial_backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.stats = UploadStats()
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()  # ends a backoff early: set by stop() and nudge()
        self._thread: threading.Thread | None = None
        # Requests go out on this one helper thread: the uploader's thread meanwhile does disk work.
        self._requests = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-upload")
        self._last_prune = 0.0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="edge-uploader", daemon=True)
        self._thread.start()

    def drain(self, timeout: float) -> int:
        """Wait until nothing is pending or `timeout` seconds pass (the uploader thread sends);
        returns how many rows are still pending."""
        deadline = time.monotonic() + timeout
        while (left := self.outbox.counts().pending) and time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                break
            time.sleep(min(DRAIN_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        return left

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the request in flight (its rows stay pending if it did not finish)."""
        self._stop.set()
        self._wake.set()
        self.outbox.arrived.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._requests.shutdown(wait=False)

    def run(self) -> None:
        logger.info("uploader started (batches of up to %d)", self.batch_size)
        while not self._stop.is_set():
            try:
                self._step()
            except OutboxFull:  # a full disk even for the delivery marks: what central has goes again
                logger.warning("uploader: no room on disk for delivery marks or pruning; rows go again later")
                self._pause(self.backoff(max(1, self.stats.consecutive_failures)))
            except Exception:  # a bug or a broken disk: log, wait, go on (rows stay in the outbox)
                logger.exception("uploader step failed; retrying")
                self._pause(self.max_backoff)
        logger.info("uploader stopped: %s", self.stats)

    def _step(self) -> None:
        self._maybe_prune()
        self.outbox.arrived.clear()  # cleared before looking: a row put after this wakes the wait
        batch = self.outbox.pending(self.batch_size, max_bytes=self.batch_max_bytes)
        if not batch:
            self.outbox.arrived.wait(IDLE_WAKE_SECONDS)
            return
        if self._drain(batch):
            if self.stats.consecutive_failures:
                logger.info(
                    "central reachable again after %d failed attempt(s)", self.stats.consecutive_failures
                )
            self.stats.consecutive_failures = 0
            self._wake.clear()  # a nudge while all went well is no news
            return
        self.stats.failures += 1
        self.stats.consecutive_failures += 1
        self._pause(self.backoff(self.stats.consecutive_failures))

    def nudge(self) -> None:
        """Try again now if waiting out a backoff (central looks reachable again); else nothing."""
        self._wake.set()

    def _pause(self, seconds: float) -> None:
        nudged = self._wake.wait(seconds)
        if self._stop.is_set():
            return
        self._wake.clear()
        if nudged:
            self.stats.nudged += 1
            logger.info("uploader: central looks reachable again; sending before the backoff ran out")

    def _drain(self, batch: Sequence[Pending]) -> bool:
        """Send `batch` and the batches after it back to back; False when one must be sent again later.

        The request runs on a helper thread while this one reads the next batch (the rows after the
        one in flight) and settles the batch before; a batch answered with anything but a result for
        each row goes the one-batch way (`_answered`: split, reject or give up, as the module
        docstring says) and ends the run.
        """
        in_flight = self._requests.submit(self._request, batch)
        answered: tuple[Sequence[Pending], Settlement] | None = None
        while True:
            following = self.outbox.pending(
                self.batch_size, max_bytes=self.batch_max_bytes, after_seq=batch[-1].seq
            )
            if answered is not None:
                self._apply(*answered)
            response = in_flight.result()
            settlement = _settlement(batch, response) if response is not None else None
            if settlement is None or settlement.unsettled:
                return response is not None and self._answered(batch, response)
            if not following or self._stop.is_set():
                self._apply(batch, settlement)
                return True
            in_flight = self._requests.submit(self._request, following)
            answered, batch = (batch, settlement), following

    def backoff(self, failures: int) -> float:
        """Exponential in the number of consecutive failures, capped, with jitter (half to all of it)."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** min(failures - 1, 30))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = now
            self.outbox.prune()

    # --- one batch ---------------------------------------------------------------------------

    def send(self, batch: Sequence[Pending]) -> bool:
        """Send one batch and settle what central answered; False when it must be sent again later."""
        response = self._request(batch)
        return response is not None and self._answered(batch, response)

    def _answered(self, batch: Sequence[Pending], response: httpx.Response) -> bool:
        status = response.status_code
        if status == 200:
            settlement = _settlement(batch, response)
            if settlement is None:
                self._failed(batch, f"central's answer is not a results list: {response.text[:200]!r}")
                return False
            self._apply(batch, settlement)
            if settlement.unsettled:
                self._failed(settlement.unsettled, "central's answer did not settle these")
                return False
            return True
        if status in (413, 422) and len(batch) > 1:
            if status == 413:
                self.batch_size = max(1, len(batch) // 2)
                logger.warning(
                    "central refused a batch of %d as too large; now %d", len(batch), self.batch_size
                )
            middle = len(batch) // 2
            return self.send(batch[:middle]) and self.send(batch[middle:])
        if status in (413, 422):
            self._reject(batch[0].id, f"central answered {status}: {_detail(response)}")
            return True
        self._failed(batch, f"central answered {status}: {_detail(response)}")
        return False

    def _request(self, batch: Sequence[Pending]) -> httpx.Response | None:
        body = '{"observations":[' + ",".join(p.body for p in batch) + "]}"
        try:
            return self.client.post(
                OBSERVATIONS_PATH, content=body.encode(), headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:  # connect/read/write errors and timeouts: send again later
            self._failed(batch, f"{type(exc).__name__}: {exc}")
            return None

    def _apply(self, batch: Sequence[Pending], settlement: Settlement) -> None:
        """Mark what central has as delivered and set aside what it rejected."""
        self.outbox.mark_delivered(settlement.delivered)
        self.stats.batches += 1
        self.stats.delivered += len(settlement.delivered)
        for obs_id, detail in settlement.rejected:
            self._reject(obs_id, detail)
        logger.debug("uploaded %d observation(s)", len(batch))

    def _reject(self, obs_id: str, detail: str) -> None:
        if self.outbox.mark_rejected(obs_id, detail):
            self.stats.rejected += 1

    def _failed(self, batch: Sequence[Pending], detail: str) -> None:
        failures = self.stats.consecutive_failures + 1
        if failures == 1 or failures % LOG_EVERY_NTH_FAILURE == 0:
            logger.warning(
                "upload of %d observation(s) failed (attempt %d): %s", len(batch), failures, detail
            )
        else:
            logger.debug("upload of %d observation(s) failed: %s", len(batch), detail)
        with contextlib.suppress(OutboxFull):  # the count of attempts is for inspection only
            self.outbox.note_failure([p.id for p in batch], detail)


@dataclass(frozen=True)
class Settlement:
    """What central's 200 answer settles for a batch: delivered ids, rejected (id, reason), and the
    rows it did not answer for (sent again later)."""

    delivered: list[str]
    rejected: list[tuple[str, str]]
    unsettled: list[Pending]


def _settlement(batch: Sequence[Pending], response: httpx.Response) -> Settlement | None:
    """The settlement of a 200 answer; None for any other answer or a body that is not a results list."""
    if response.status_code != 200:
        return None
    results = _results(response)
    if results is None:
        return None
    sent = {p.id for p in batch}
    delivered = [r["id"] for r in results if r["id"] in sent and r["outcome"] in DELIVERED_OUTCOMES]
    rejected = [
        (r["id"], str(r.get("detail") or "rejected by central"))
        for r in results
        if r["id"] in sent and r["outcome"] == "rejected"
    ]
    settled = {r["id"] for r in results if r["outcome"] in DELIVERED_OUTCOMES or r["outcome"] == "rejected"}
    return Settlement(delivered, rejected, [p for p in batch if p.id not in settled])


def _results(response: httpx.Response) -> list[dict[str, Any]] | None:
    try:
        payload = response.json()
        results = payload["results"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(results, list) or not all(
        isinstance(r, dict) and isinstance(r.get("id"), str) and isinstance(r.get("outcome"), str)
        for r in results
    ):
        return None
    return results


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))[:500]
    except (ValueError, AttributeError):
        return response.text[:500]
