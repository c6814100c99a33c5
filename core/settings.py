"""The one settings object. Every value can be set with an `ACTIVATION_` environment variable."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from typing import Literal
from urllib.parse import quote
from urllib.parse import urlsplit

from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator
from pydantic_settings import BaseSettings
from pydantic_settings import NoDecode
from pydantic_settings import SettingsConfigDict

from core.license_signing import LicenseKeys
from core.license_signing import derived_keys
from core.license_signing import keys_from_file
from core.payload_codec import parse_key

DEV_API_KEY = "dev-api-key"
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
# Lists the environment gives as comma-separated values.
COMMA_SEPARATED = (
    "api_keys",
    "payload_keys",
    "operator_keys",
    "codec_keys",
    "codec_cors_origins",
    "operator_alert_emails",
)
PLACEHOLDERS = {"", "changethis", "change-me", DEV_SECRET_KEY, DEV_API_KEY}


CONSOLE_FIELDS = ("instance_id", "region", "product")


def console_url(template: str, **fields: str) -> str:
    """The template filled in (each value quoted for a URL's path); a template with another
    placeholder, or that does not give an http(s) URL, is refused."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if not names <= set(CONSOLE_FIELDS):
        raise ValueError(f"ACTIVATION_CONSOLE_URL_TEMPLATE knows only {CONSOLE_FIELDS}")
    url = template.format(**{name: quote(value, safe="") for name, value in fields.items()})
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValueError("ACTIVATION_CONSOLE_URL_TEMPLATE must give an http(s) URL")
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIVATION_", env_file=".env", extra="ignore")

    # Fail closed: unless told otherwise (`activation dev` says development), run as production.
    # Every environment but development refuses placeholder secrets and demands the payload key;
    # only development serves the development mailbox.
    environment: Literal["development", "test", "production"] = "production"
    data_dir: Path = Path("data")

    # Application database: SQLite (aiosqlite) embedded, PostgreSQL (asyncpg) in production.
    database_url: str = "sqlite+aiosqlite:///data/activation.db"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "activation-pipelines"
    temporal_ui_port: int = 8233
    worker_shutdown_grace_seconds: int = 30
    # A worker started while the Temporal server is down or restarting waits this long for it.
    worker_connect_wait_seconds: int = 300
    # Prometheus metrics of the worker's Temporal runtime, e.g. "0.0.0.0:9464" (off when unset).
    worker_metrics_address: str | None = None
    # Prometheus metrics of the API (HTTP requests by route and status), e.g. "0.0.0.0:9465":
    # served on an address of its own, not on the public port (off when unset).
    api_metrics_address: str | None = None

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    # Connecting and greeting; a message's own replies (MAIL, RCPT, DATA) are awaited longer:
    # RFC 5321 §4.5.3.2 gives a server up to 10 minutes to accept a message, and a client that
    # gives up sooner sends it again.
    smtp_timeout_seconds: float = 10.0
    smtp_message_timeout_seconds: float = 600.0
    mail_from: str = "Activation <no-reply@activation.localhost>"
    # Mails one address may receive per hour across all flows (a real activation sends ~5);
    # more are refused (429 `mail_rate_limited` at the API; not sent by a flow).
    mail_per_address_per_hour: int = 10
    # What anyone may ask for without a key, counted apart from the above: account lookups'
    # answers per address, and lookups per client (each API process counts its own).
    lookup_mails_per_address_per_hour: int = 2
    lookups_per_client_per_hour: int = 20
    # Addresses one Activation Link may try to sign up or in with, per hour (per API process).
    sign_ups_per_code_per_hour: int = 10

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Base of the links in emails (the page that confirms a token lives here).
    public_base_url: str = "http://127.0.0.1:8000"
    # A vendor with its own portal points the mails' links there: per kind of link
    # (activation, verification, invitation, transfer, objection), a URL with `{token}` where
    # the link's token goes, e.g. {"activation": "https://portal.example.com/activate?code={token}"}.
    link_templates: dict[str, str] = Field(default_factory=dict)
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Serve the OpenAPI document and its pages (/docs, /redoc, /openapi.json); off hides them.
    api_docs: bool = True
    # The customer's pages (docs/pages.md): who they come from and where they go next.
    brand_name: str = "Activation Service"
    brand_logo_file: Path | None = None  # an image served with the pages (same origin, for CSP)
    brand_color: str = Field("#d71920", pattern=r"^#[0-9a-fA-F]{6}$")
    # Who to ask, as it stands in a sentence of every language ("Contact {support}."): an
    # address or a name, not prose in one language.
    support_contact: str = "support@example.com"
    # How long the customer's pages keep a session (then the Activation Link opens a new one).
    page_session_seconds: int = Field(12 * 3600, ge=60)
    # The console of one instance, for a product whose backend does not return one (that one
    # wins: docs/provisioning.md): `{instance_id}`, `{region}` and `{product}` are filled in,
    # e.g. `https://{region}.console.example.com/instances/{instance_id}`. Unset, pages and mails
    # show no console button.
    console_url_template: str | None = None
    # `make dev` leaves out the access lines of polls and assets, and the SMTP transcript.
    log_every_request: bool = False
    # `json`: one JSON object a line, with the flow and activity of each (docs/operations.md).
    log_format: Literal["text", "json"] = "text"
    # Keys the workflow IDs (HMAC of the domain key), so no address is readable from an ID.
    secret_key: str = DEV_SECRET_KEY
    # Keys of the payload codec (docs/security.md): what the service gives Temporal is encrypted.
    # Comma-separated `<id>:<32 bytes in base64>`, the newest (the one that encrypts) first;
    # older ones stay to decrypt. Production requires one; `activation dev` keeps one under
    # the data folder.
    payload_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # Operators' keys (support staff's API, and the codec endpoint `/codec` as a Bearer header
    # from the CLI), apart from the portal's API keys.
    operator_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # Keys that open the codec endpoint and nothing else: the Temporal Web UI's (it cannot send
    # a header, so its key is part of the endpoint's URL, which the UI shows to its users:
    # docs/security.md). The codec endpoint is off without an operator or codec key. Browsers
    # may call it from these origins (CORS).
    codec_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 16 * 1024
    # Where the vendor's operators are told what needs them (a webhook endpoint disabled),
    # comma-separated, and in which language.
    operator_alert_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    operator_locale: Literal["en", "zh-TW"] = "en"

    # Events and webhooks (docs/webhooks.md): how long a receiver has to answer, how long events
    # are kept (for the feed, the delivery log and replays), and how often the event relay looks
    # for events another process recorded.
    webhook_timeout_seconds: float = Field(15.0, gt=0, le=60)
    event_retention_days: int = Field(30, ge=1)
    event_relay_poll_seconds: float = Field(1.0, gt=0)

    # Provisioning in the vendor's product (docs/provisioning.md): each product's signing
    # secrets, newest first (while a rotation lets two sign), as JSON in the environment:
    # {"endpoint-protection": ["whsec_...", "whsec_..."]}; how long its backend has to answer,
    # how often an instance it is still setting up is polled, and how long it may take.
    provisioning_secrets: dict[str, list[str]] = Field(default_factory=dict, repr=False)
    provisioning_timeout_seconds: float = Field(30.0, gt=0, le=120)
    provisioning_poll_seconds: int = Field(30, ge=1)
    provisioning_wait_minutes: int = Field(60, ge=1)
    # `activation dev`'s development product backend (loopback only).
    dev_product_port: int = 8026

    # Products and agreements (data, docs/domain.md); unset means the packaged default catalog.
    catalog_file: Path | None = None

    # Email verification defaults (docs/flows/).
    verification_expiry_seconds: int = 24 * 3600
    verification_expiry_by_purpose: dict[str, int] = Field(default_factory=dict)
    # What a verification may be for; the API refuses any other `purpose` (and "activation",
    # which only the license-activation flow starts, is always allowed for it).
    verification_purposes: list[str] = Field(default_factory=lambda: ["signup", "email-change"])
    verification_resend_cooldown_seconds: int = 60
    verification_max_resends: int = 5
    verification_max_attempts: int = 5

    # License activation (docs/flows/): the Activation Link's life and the reminders before
    # it lapses (seconds before the end, as a JSON list in the environment).
    activation_link_expiry_seconds: int = 30 * 24 * 3600
    # Each activated license's renewal reminders: days before its expiry (its lifecycle flow).
    license_reminder_before_days: list[int] = Field(default_factory=lambda: [30, 7, 1])
    # A trial order's term when its items give no last day (an unconverted trial then expires).
    trial_days: int = Field(30, ge=1, le=365)
    activation_reminder_before_seconds: list[int] = Field(
        default_factory=lambda: [7 * 24 * 3600, 24 * 3600]
    )

    # On-premises licenses (docs/on-premises.md): the keys that sign license files (a JWK Set
    # whose first private key signs; unset: one key derived from the secret key), how long a
    # file issued online lasts before the installation checks in again (an offline one lasts
    # the term), and how many seats one code may free a day (a deactivation loop cannot mint
    # files without end).
    license_keys_file: Path | None = None
    license_file_ttl_days: int = Field(30, ge=1)
    license_deactivations_per_day: int = Field(5, ge=1)

    # Local accounts and ownership transfer (docs/flows/).
    local_account_limit: int = 50  # per Business, pending invitations included
    local_account_invitation_expiry_seconds: int = 7 * 24 * 3600
    local_account_reminder_before_seconds: list[int] = Field(default_factory=lambda: [24 * 3600])
    ownership_transfer_expiry_seconds: int = 24 * 3600
    # A primary change by support: how long the current primary may object once told.
    primary_change_objection_seconds: int = 72 * 3600

    @field_validator(
        "api_keys",
        "payload_keys",
        "operator_keys",
        "codec_keys",
        "codec_cors_origins",
        "operator_alert_emails",
        mode="before",
    )
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("console_url_template")
    @classmethod
    def _console_template(cls, value: str | None) -> str | None:
        if value:
            console_url(value, instance_id="i", region="r", product="p")  # fails at start
        return value or None

    def console_of(self, instance_id: str, region: str, product: str) -> str | None:
        """The console of an instance as the template gives it (None without a template)."""
        if not self.console_url_template:
            return None
        return console_url(
            self.console_url_template, instance_id=instance_id, region=region, product=product
        )

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.license_keys_file is not None:
            keys_from_file(self.license_keys_file)  # a wrong keys file fails at start, not later
        if self.environment == "development":
            if not self.api_keys:
                self.api_keys = [DEV_API_KEY]
            return self
        # Everywhere else (production, test): fail closed.
        if self.secret_key in PLACEHOLDERS or len(self.secret_key) < 32:
            raise ValueError("ACTIVATION_SECRET_KEY must be set to 32+ random characters")
        if any(key in PLACEHOLDERS or len(key) < 16 for key in self.api_keys):
            raise ValueError("ACTIVATION_API_KEYS must hold real keys (16+ characters)")
        if not self.payload_keys:
            raise ValueError(
                "ACTIVATION_PAYLOAD_KEYS must hold a key: without it, Temporal would keep the "
                "customers' personal data readable (docs/security.md)"
            )
        if any(key in PLACEHOLDERS or len(key) < 32 for key in self.operator_keys):
            raise ValueError("ACTIVATION_OPERATOR_KEYS must hold real keys (32+ characters)")
        if any(key in PLACEHOLDERS or len(key) < 32 for key in self.codec_keys):
            raise ValueError("ACTIVATION_CODEC_KEYS must hold real keys (32+ characters)")
        if set(self.codec_keys) & set(self.operator_keys):
            raise ValueError("a codec key is shown by the Web UI: it must not be an operator key")
        for entry in self.payload_keys:
            parse_key(entry)  # a malformed key fails at start, not at the first flow
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def mailbox_dir(self) -> Path:
        """Maildir of the development SMTP sink, read by `GET /dev/mailbox`."""
        return self.data_dir / "mailbox"

    def license_keys(self) -> LicenseKeys:
        if self.license_keys_file is not None:
            return keys_from_file(self.license_keys_file)
        return derived_keys(self.secret_key)

    def verification_expiry_for(self, purpose: str) -> int:
        return self.verification_expiry_by_purpose.get(purpose, self.verification_expiry_seconds)


@lru_cache
def get_settings() -> Settings:
    return Settings()
