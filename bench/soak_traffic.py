"""The soak's traffic straight to nginx (inside the government network, not over a hall's link): the case
system pushing case events (each a new case received at a random hall's window, which that hall's
screens must show), and inspectors signed in to the console reading its pages and the API's lists."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench.soak_plan import ClientsPlan, HallPlan, pause
from bench.soak_tally import Tally, error_kind

logger = logging.getLogger(__name__)

CONSOLE_PAGES = (
    "/console/cases",
    "/console/ratings",
    "/console/video",
    "/console/signals",
    "/console/complaints",
)
API_LISTS = ("/api/v1/cases?limit=50", "/api/v1/signals", "/api/v1/complaints", "/api/v1/ledger")
INSPECTOR_PAUSE_S = (2.0, 5.0)  # between one inspector's requests: reading the page
MAX_PUSHES_IN_FLIGHT = 64


def _client(base: str, context: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, verify=context, timeout=httpx.Timeout(60, connect=5))


class CasePusher:
    """New cases at `cases_per_second` (a Poisson process), each at a random hall; remembers when each
    was pushed and which central took (answered stored)."""

    def __init__(self, plan: ClientsPlan, context: ssl.SSLContext, tally: Tally) -> None:
        self.plan, self.tally = plan, tally
        self.client = _client(plan.direct_url, context)
        self.pushed: dict[str, tuple[str, float]] = {}  # case number → (hall, pushed at), once stored
        self._rng = random.Random(plan.seed)
        self._count = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and not await self._sign_in():
            await pause(stop, 2.0)
        room = asyncio.Semaphore(MAX_PUSHES_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            await asyncio.sleep(self._rng.expovariate(self.plan.cases_per_second))
            await room.acquire()
            task = asyncio.create_task(self._push(self._rng.choice(self.plan.halls)))
            task.add_done_callback(lambda _: room.release())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.aclose()

    async def _sign_in(self) -> bool:
        form = {"username": self.plan.supervisor_username, "password": self.plan.password}
        try:
            response = await self.client.post("/api/v1/auth/token", data=form)
        except httpx.HTTPError as exc:
            self.tally.error("cases", "transport", f"sign-in: {type(exc).__name__}: {exc}", route="direct")
            return False
        if response.status_code != 200:
            self.tally.error("cases", error_kind(response.status_code), f"sign-in: {response.status_code}",
                             route="direct")  # fmt: skip
            return False
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return True

    async def _push(self, hall: HallPlan) -> None:
        self._count += 1
        case_no = f"SK-{hall.code}-{self._count:07d}"
        at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        event = {"event_id": f"{case_no}-r", "case_no": case_no, "type": "received", "at": at,
                 "item_code": hall.item_code, "hall_code": hall.code, "window_code": hall.windows[0],
                 "staff_code": hall.staff_code, "applicant_name": "张三明"}  # fmt: skip
        started = time.monotonic()
        try:
            response = await self.client.post("/api/v1/cases/events", json=[event])
        except httpx.HTTPError as exc:
            self.tally.error("cases", "transport", f"{case_no}: {type(exc).__name__}: {exc}", route="direct")
            return
        if response.status_code != 200:
            self.tally.error("cases", error_kind(response.status_code), f"{case_no}: {response.status_code} "
                             f"{response.text[:200]}", route="direct")  # fmt: skip
            return
        outcome = response.json()["results"][0]["outcome"]
        if outcome != "stored":
            self.tally.error("cases", "rejected", f"{case_no}: {outcome}", route="direct")
            return
        self.pushed[case_no] = (hall.code, started)


class Inspector:
    """One inspector: the console (signed in with a session cookie) and the API (a bearer token), a
    request every few seconds."""

    def __init__(self, plan: ClientsPlan, context: ssl.SSLContext, tally: Tally, seed: int) -> None:
        self.plan, self.tally = plan, tally
        self.console = _client(plan.direct_url, context)
        self.api = _client(plan.direct_url, context)
        self._rng = random.Random(seed)
        self.requests = 0

    async def run(self, stop: asyncio.Event) -> None:
        signed_in = False
        while not stop.is_set():
            if not signed_in:
                signed_in = await self._sign_in()
            elif self._rng.random() < 0.5:
                await self._get(self.console, self._rng.choice(CONSOLE_PAGES))
            else:
                await self._get(self.api, self._rng.choice(API_LISTS))
            await pause(stop, self._rng.uniform(*INSPECTOR_PAUSE_S))
        await self.console.aclose()
        await self.api.aclose()

    async def _sign_in(self) -> bool:
        """The console's sign-in (a session cookie) and the API's token; False (noted) when refused."""
        form = {"username": self.plan.inspector_username, "password": self.plan.password}
        try:
            page = await self.console.post("/console/login", data=form)
            token = await self.api.post("/api/v1/auth/token", data=form)
        except httpx.HTTPError as exc:
            self.tally.error(
                "inspector", "transport", f"sign-in: {type(exc).__name__}: {exc}", route="direct"
            )
            return False
        for response, wanted in ((page, 303), (token, 200)):
            if response.status_code != wanted:
                kind = error_kind(response.status_code) if response.status_code >= 400 else "http_4xx"
                self.tally.error("inspector", kind, f"sign-in: {response.status_code}", route="direct")
                return False
        self.api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return True

    async def _get(self, client: httpx.AsyncClient, path: str) -> None:
        self.requests += 1
        try:
            response = await client.get(path)
        except httpx.HTTPError as exc:
            self.tally.error("inspector", "transport", f"{path}: {type(exc).__name__}: {exc}", route="direct")
            return
        if response.status_code != 200:
            self.tally.error("inspector", error_kind(response.status_code), f"{path}: {response.status_code}",
                             route="direct")  # fmt: skip
