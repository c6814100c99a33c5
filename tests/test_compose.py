"""docker-compose.yml cannot run here (no Docker engine); check that it matches the code: every
ACTIVATION_ variable is a real setting, required secrets are demanded, and the production settings
it describes are accepted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from core.payload_codec import new_key_entry
from core.settings import Settings
from models.contracts.search_attributes import ALL as SEARCH_ATTRIBUTES

COMPOSE = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ("migrate", "api", "worker")


def resolve(value: str) -> str:
    """Fill `${VAR:?msg}` with a strong stand-in (a real key for the payload keys) and
    `${VAR:-default}` with its default."""
    value = re.sub(r"\$\{ACTIVATION_PAYLOAD_KEYS:\?[^}]*\}", new_key_entry("k1"), value)
    # Each required variable its own value (a codec key must differ from the operator key).
    value = re.sub(r"\$\{([A-Z_]+):\?[^}]*\}", lambda found: found[1].lower() * 2, value)
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_every_activation_variable_is_a_setting() -> None:
    for name in APP_SERVICES:
        for key in SERVICES[name]["environment"]:
            assert key.startswith("ACTIVATION_"), (name, key)
            assert key.removeprefix("ACTIVATION_").lower() in Settings.model_fields, (name, key)


def test_the_app_services_describe_valid_production_settings() -> None:
    for name in APP_SERVICES:
        env = {
            k.removeprefix("ACTIVATION_").lower(): resolve(str(v))
            for k, v in SERVICES[name]["environment"].items()
        }
        settings = Settings.model_validate(env)
        assert settings.environment == "production"
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.temporal_address == "temporal:7233"


def test_secrets_are_required_not_defaulted() -> None:
    text = (Path(__file__).parent.parent / "docker-compose.yml").read_text()
    required = ("POSTGRES_PASSWORD", "ACTIVATION_SECRET_KEY", "ACTIVATION_API_KEYS")
    for variable in (
        *required,
        "ACTIVATION_PAYLOAD_KEYS",
        "ACTIVATION_OPERATOR_KEY",
        "ACTIVATION_CODEC_KEY",
    ):
        assert f"${{{variable}:?" in text


def test_the_temporal_ui_decrypts_through_the_apis_codec_endpoint() -> None:
    endpoint = SERVICES["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert "/codec/${ACTIVATION_CODEC_KEY:?" in endpoint  # the codec-only key: the UI shows it
    assert SERVICES["api"]["environment"]["ACTIVATION_CODEC_CORS_ORIGINS"]


def test_services_start_in_order_and_report_health() -> None:
    assert SERVICES["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["worker"]["depends_on"]["temporal-search-attributes"]["condition"] == (
        "service_completed_successfully"
    )
    for name in ("postgresql", "temporal", "api"):
        assert "healthcheck" in SERVICES[name]
    assert "replicas" in SERVICES["worker"]["deploy"]


def test_the_search_attributes_the_code_uses_are_created() -> None:
    command = " ".join(SERVICES["temporal-search-attributes"]["command"])
    for key in SEARCH_ATTRIBUTES:
        assert key.name in command
