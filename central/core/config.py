"""Settings from `HALLWATCH_*` environment variables."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.profiles import DEFAULT_PROFILE_KEY, ProfileError, get_profile

DEFAULT_SQLITE_PATH = Path("var") / "hallwatch.db"
ICE_URL = r"^(stun|stuns|turn|turns):[^\s]{1,290}$"
TURN_URL = r"^(turn|turns):[^\s]{1,290}$"
MAX_ICE_SERVERS = 8  # what one live_offer command carries (common.contract.live.LiveOfferPayload)


class IceServerSetting(BaseModel):
    """One STUN/TURN server for live view, given to the hall's agent and to the browser alike."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    urls: list[str] = Field(min_length=1, max_length=4)
    username: str | None = Field(default=None, max_length=200)
    credential: str | None = Field(default=None, max_length=200)

    @field_validator("urls")
    @classmethod
    def _verify_urls(cls, urls: list[str]) -> list[str]:
        bad = [u for u in urls if not re.fullmatch(ICE_URL, u)]
        if bad:
            raise ValueError(f"not a stun:/turn: URL: {bad[0][:80]!r}")
        return urls


class Settings(BaseSettings):
    # A refused value is never echoed: the secrets (and the database URL's password) would reach the
    # terminal or the journal. The message still names the setting and what it must be.
    model_config = SettingsConfigDict(env_prefix="HALLWATCH_", extra="forbid", hide_input_in_errors=True)

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL; SQLite by default, PostgreSQL in production.",
    )
    rule_profile: str = Field(default=DEFAULT_PROFILE_KEY, description="Deployment's rule profile key.")
    max_batch_events: int = Field(default=5000, ge=1, le=100_000, description="Largest accepted event batch.")
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    page_size_max: int = Field(default=500, ge=10, le=10_000, description="Largest page a list returns.")
    token_ttl_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60, description="Access token lifetime.")
    max_failed_logins: int = Field(
        default=5, ge=1, le=100, description="Failures from one source before that source is locked out."
    )
    lockout_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a source locked out of one username waits."
    )
    account_delay_after: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Failures of one username from all sources before each next attempt waits.",
    )
    account_delay_max_seconds: int = Field(
        default=60, ge=1, le=3600, description="Longest wait of the per-account delay (doubling from 1 s)."
    )
    password_min_length: int = Field(default=10, ge=8, le=128, description="Shortest password accepted.")
    refusal_window_seconds: int = Field(
        default=60,
        ge=1,
        le=24 * 60 * 60,
        description="Refusals of one (caller, action, target) in a window: one audit entry, the rest counted.",
    )
    review_after_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Permissions unconfirmed for longer are due for review (SC-15).",
    )
    serve_runs_jobs: bool = Field(
        default=True,
        description="Whether each `hallwatch serve` runs the periodic jobs (signals, scores, the hall feed's "
        "pass, …; each pass claimed by one instance). False where `hallwatch jobs` runs them in a process of "
        "its own, so that a long pass never takes CPU from requests (production, deploy/).",
    )
    signal_interval_seconds: int = Field(
        default=300,
        ge=0,
        le=24 * 60 * 60,
        description="Seconds between signal scheduler runs inside `serve` (SZ-10..12); 0 disables it "
        "(run `hallwatch signals run` from cron instead).",
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="Directory for signed checkpoints of the audit chain's head, one JSON file each: "
        "a place the database administrator cannot rewrite. None: no checkpoints.",
    )
    audit_signing_key: Path | None = Field(
        default=None,
        description="The deployment's Ed25519 private key file (0600; `hallwatch audit keygen`), never "
        "stored in the database.",
    )
    audit_checkpoint_interval_seconds: int = Field(
        default=3600,
        ge=0,
        le=7 * 24 * 60 * 60,
        description="Seconds between checkpoints inside `serve` when the directory and key are set; 0 "
        "disables it (run `hallwatch audit checkpoint` from cron instead).",
    )
    patrol_key_file: Path | None = Field(
        default=None,
        description="The secret key that draws which cities and counties the province patrols each day "
        "(SC-6(1); `hallwatch patrol keygen`), never stored in the database: without it nobody can predict "
        "tomorrow's draw, with it an auditor can recompute every one. None: no plan can be drawn.",
    )
    patrol_plan_interval_seconds: int = Field(
        default=600,
        ge=0,
        le=24 * 60 * 60,
        description="Seconds between looks for the day's patrol plan inside `serve` (published the first "
        "time a working day is seen, so it waits for the inspectors); 0 disables it (the plan is then drawn "
        "by the first request of the day).",
    )
    score_interval_seconds: int = Field(
        default=600,
        ge=0,
        le=24 * 60 * 60,
        description="Seconds between passes of the daily scores inside `serve` (each finished day scored "
        "once, corrections after approvals, months closed); 0 disables it (`hallwatch scores run` then).",
    )
    score_delay_minutes: int = Field(
        default=60,
        ge=0,
        le=24 * 60,
        description="A day is scored this long after it ends (Shanghai time), for late verdicts and "
        "uploads after a reconnect.",
    )
    score_month_close_working_day: int = Field(
        default=5,
        ge=1,
        le=20,
        description="A month's scores close on this working day of the next month (after that they change "
        "only through an approval) and its monthly report is generated.",
    )
    anomaly_interval_seconds: int = Field(
        default=3600,
        ge=0,
        le=24 * 60 * 60,
        description="Seconds between passes of data supervision's anomaly rules inside `serve` (over the "
        "last `anomaly_days` days through yesterday, hits stored idempotently); 0 disables it "
        "(`hallwatch anomalies run` then).",
    )
    anomaly_days: int = Field(
        default=35, ge=1, le=400, description="Days through yesterday each pass of the anomaly rules judges."
    )
    public_feed_interval_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="Seconds between passes of the hall screens' feed inside `serve` (a new day's lights, "
        "today's ratings, changes by other writers; case events reach the screens at once anyway); 0 "
        "disables it.",
    )
    public_feed_keep_hours: int = Field(
        default=48,
        ge=1,
        le=24 * 30,
        description="How long a hall's numbered changes are kept for screens that resume; one away longer "
        "gets a fresh snapshot.",
    )
    public_requests_per_minute: int = Field(
        default=120,
        ge=1,
        le=1_000_000,
        description="Requests per minute one address may make to the public API (the hall screens' "
        "feed, catalog, kiosk lookups); display agents with their device key are not limited.",
    )
    public_streams_per_client: int = Field(
        default=50,
        ge=1,
        le=1_000_000,
        description="Open change streams (SSE) one address may hold; display agents with their key are "
        "not limited.",
    )
    complaint_attachments_max: int = Field(
        default=4, ge=0, le=10, description="Attachments one complaint may carry (images and PDFs)."
    )
    complaint_attachment_max_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=20 * 1024 * 1024,
        description="Largest complaint attachment; all of them together must also fit in max_body_bytes.",
    )
    complaint_image_max_pixels: int = Field(
        default=40_000_000,
        ge=10_000,
        le=200_000_000,
        description="Largest image (width × height) a complaint attachment may decode to: a small file "
        "that would decode to gigabytes is refused before it is decoded.",
    )
    complaint_submissions_per_hour: int = Field(
        default=5,
        ge=1,
        le=10_000,
        description="Complaints one address may submit in a row (each within an hour of the last) "
        "before it waits an hour; counted in the database, across instances.",
    )
    complaint_kiosk_submissions_per_hour: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Complaints one hall kiosk (a display agent showing its device key) may submit in a "
        "row, each within an hour of the last, before it waits an hour: more than one address may, since "
        "everyone in the hall shares it; the question still holds each complaint to one person's answer.",
    )
    complaint_challenge_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="How long the complaint form's arithmetic question stays valid.",
    )
    complaint_challenge_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        max_length=512,
        description="The server secret that signs the complaint form's question (HMAC). None: a random "
        "one per process, so a form must be sent back to the instance that served it; set it when "
        "several instances share the traffic.",
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement.")
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Database connections each instance keeps open (PostgreSQL, or an SQLite file). "
        "With db_pool_overflow more than db_request_slots (central.core.db.PoolSize says why); mind "
        "PostgreSQL's max_connections across the instances.",
    )
    db_pool_overflow: int = Field(
        default=30, ge=0, le=500, description="Connections opened beyond db_pool_size at a peak."
    )
    db_pool_timeout_seconds: float = Field(
        default=5.0,
        ge=0.5,
        le=60,
        description="How long a request waits for a pooled connection before it is answered 503 "
        "(try again); agents send again from their outbox.",
    )
    worker_threads: int = Field(
        default=16,
        ge=2,
        le=400,
        description="Threads running sync request steps and database work at once in a process (AnyIO's "
        "limiter, 40 by default there). A process runs Python on one core at a time: more threads only "
        "contend for it (the soak, bench/soak.py, ran faster on 12 than on 40); scale with instances.",
    )
    db_request_slots: int = Field(
        default=12,
        ge=1,
        le=500,
        description="Requests holding a database session at once; more wait their turn without a "
        "connection or a thread (central.core.session_slots says why). Below db_pool_size + "
        "db_pool_overflow, so the background work and the feeds keep connections of their own.",
    )
    db_request_wait_seconds: float = Field(
        default=10.0,
        ge=0.5,
        le=120,
        description="How long a request waits for its turn before it is answered 503 (try again).",
    )
    device_channel_idle_seconds: float = Field(
        default=60.0,
        ge=2,
        le=600,
        description="A device channel (WebSocket) silent this long is closed; central pings it after "
        "half of it. Agents heartbeat more often (edge: central.heartbeat_seconds).",
    )
    live_ice_servers: list[IceServerSetting] = Field(
        default_factory=list,
        max_length=MAX_ICE_SERVERS,
        description="Static STUN/TURN servers for live view (JSON list of {urls, username?, credential?}), "
        "handed out as they are; the deployment's own coturn goes in HALLWATCH_LIVE_TURN_URLS instead, "
        "with credentials minted per use. Empty (the default, and in tests and the demo): host candidates "
        "only, and never a public default.",
    )
    live_turn_urls: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="The TURN server (coturn with use-auth-secret, deploy/coturn/turnserver.conf) for "
        "halls behind NAT: a JSON list of turn:/turns: URLs. Central mints each browser and each hall's "
        "agent time-limited credentials for them (the TURN REST API), never one fixed user.",
    )
    live_turn_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        max_length=256,
        description="coturn's static-auth-secret, shared with central only: the key of the minted "
        "credentials' HMAC (e.g. `openssl rand -hex 32`). Set with HALLWATCH_LIVE_TURN_URLS, or neither.",
    )
    live_turn_lifetime_seconds: int = Field(
        default=3600,
        ge=300,
        le=24 * 60 * 60,
        description="How long a minted TURN credential lets its holder open new relays on coturn (a relay "
        "opened in time lasts as long as its view); the console fetches fresh ones at half of it.",
    )
    live_answer_timeout_seconds: float = Field(
        default=15.0,
        ge=1,
        le=60,
        description="How long a live view request waits for the hall's agent to answer (504 after).",
    )
    api_docs: bool = Field(
        default=False,
        description="Serve /docs, /redoc and /openapi.json (without sign-in); off in production, "
        "the demo turns it on.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        max_length=2000,
        description="Comma-separated addresses (or networks) of the TLS-terminating reverse proxies whose "
        "X-Forwarded-Proto and X-Forwarded-For are believed; empty: nobody's. Behind such a proxy the "
        "session cookie gets Secure and refusals name the real client.",
    )

    @model_validator(mode="after")
    def _verify_checkpoint_pair(self) -> Settings:
        if (self.audit_checkpoint_dir is None) != (self.audit_signing_key is None):
            raise ValueError(
                "set HALLWATCH_AUDIT_CHECKPOINT_DIR and HALLWATCH_AUDIT_SIGNING_KEY together (or neither)"
            )
        return self

    @field_validator("live_turn_urls")
    @classmethod
    def _verify_turn_urls(cls, urls: list[str]) -> list[str]:
        bad = [u for u in urls if not re.fullmatch(TURN_URL, u)]
        if bad:
            raise ValueError(f"not a turn:/turns: URL: {bad[0][:80]!r}")
        return urls

    @field_validator("live_turn_secret")
    @classmethod
    def _verify_turn_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        # One word of printable ASCII: it is written as is into coturn's static-auth-secret= line.
        if secret is not None and not re.fullmatch(r"[!-~]+", secret.get_secret_value()):
            raise ValueError(
                "the TURN secret is printable ASCII without spaces (e.g. `openssl rand -hex 32`)"
            )
        return secret

    @model_validator(mode="after")
    def _verify_turn_server(self) -> Settings:
        if (self.live_turn_secret is None) != (not self.live_turn_urls):
            raise ValueError(
                "set HALLWATCH_LIVE_TURN_SECRET and HALLWATCH_LIVE_TURN_URLS together (or neither): "
                "coturn's static-auth-secret and the URLs it answers on"
            )
        handed = len(self.live_ice_servers) + (1 if self.live_turn_urls else 0)
        if handed > MAX_ICE_SERVERS:
            raise ValueError(
                f"HALLWATCH_LIVE_ICE_SERVERS and the TURN server make {handed} ICE servers: at most "
                f"{MAX_ICE_SERVERS} reach a hall's agent"
            )
        return self

    @model_validator(mode="after")
    def _verify_request_slots(self) -> Settings:
        pooled = self.db_pool_size + self.db_pool_overflow
        if self.db_request_slots >= pooled:
            raise ValueError(
                f"HALLWATCH_DB_REQUEST_SLOTS ({self.db_request_slots}) must be below the pooled "
                f"connections, HALLWATCH_DB_POOL_SIZE + HALLWATCH_DB_POOL_OVERFLOW ({pooled}): "
                "requests waiting for a thread would otherwise hold them all"
            )
        return self

    @field_validator("rule_profile")
    @classmethod
    def _verify_profile_exists(cls, key: str) -> str:
        try:
            get_profile(key)
        except ProfileError as exc:
            raise ValueError(str(exc)) from exc
        return key


def load_settings() -> Settings:
    return Settings()
