"""The compose files cannot run here (no Docker engine): docker-compose.yml (evaluation) and
deploy/compose/production.yml are checked against the compose specification's published schema
(vendored by check-jsonschema: nothing downloads) and against the code: every ACTIVATION_
variable is a real setting, required secrets are demanded, and the production settings they
describe are accepted."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from core.payload_codec import new_key_entry
from core.settings import Settings
from models.contracts.search_attributes import ALL as SEARCH_ATTRIBUTES

ROOT = Path(__file__).parent.parent
FILES = {
    "evaluation": ROOT / "docker-compose.yml",
    "production": ROOT / "deploy" / "compose" / "production.yml",
}
APP_SERVICES = ("migrate", "api", "worker")
SECRETS = (
    "POSTGRES_PASSWORD",
    "ACTIVATION_SECRET_KEY",
    "ACTIVATION_API_KEYS",
    "ACTIVATION_PAYLOAD_KEYS",
    "ACTIVATION_OPERATOR_KEY",
    "ACTIVATION_CODEC_KEY",
)
each_file = pytest.mark.parametrize("name", sorted(FILES))


def services(name: str) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(FILES[name].read_text())["services"]
    return found


def resolve(value: str) -> str:
    """Fill `${VAR:?msg}` with a strong stand-in (a real key for the payload keys) and
    `${VAR:-default}` with its default."""
    value = re.sub(r"\$\{ACTIVATION_PAYLOAD_KEYS:\?[^}]*\}", new_key_entry("k1"), value)
    value = re.sub(r"\$\{PUBLIC_BASE_URL:\?[^}]*\}", "https://activation.example.com", value)
    # Each required variable its own value (a codec key must differ from the operator key).
    value = re.sub(r"\$\{([A-Z_]+):\?[^}]*\}", lambda found: found[1].lower() * 2, value)
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


@each_file
def test_the_file_is_valid_for_the_compose_specification(name: str) -> None:
    schemas = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    schema = json.loads((schemas / "compose-spec.json").read_text())
    jsonschema.validate(yaml.safe_load(FILES[name].read_text()), schema)


@each_file
def test_every_activation_variable_is_a_setting(name: str) -> None:
    for service in APP_SERVICES:
        for key in services(name)[service]["environment"]:
            assert key.startswith("ACTIVATION_"), (service, key)
            assert key.removeprefix("ACTIVATION_").lower() in Settings.model_fields, (service, key)


@each_file
def test_the_app_services_describe_valid_production_settings(name: str) -> None:
    for service in APP_SERVICES:
        env = {
            k.removeprefix("ACTIVATION_").lower(): resolve(str(v))
            for k, v in services(name)[service]["environment"].items()
        }
        settings = Settings.model_validate(env)
        assert settings.environment == "production"
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.temporal_address == "temporal:7233"


@each_file
def test_secrets_are_required_not_defaulted(name: str) -> None:
    text = FILES[name].read_text()
    for variable in SECRETS:
        assert f"${{{variable}:?" in text


def test_production_demands_its_own_mail_server_address_and_image() -> None:
    text = FILES["production"].read_text()
    for variable in ("SMTP_HOST", "SMTP_PASSWORD", "MAIL_FROM", "PUBLIC_BASE_URL"):
        assert f"${{{variable}:?" in text
    app = services("production")
    assert "mailcatcher" not in app
    assert {app[service]["image"] for service in APP_SERVICES} == {
        "${ACTIVATION_IMAGE:?Variable not set}"
    }


def test_production_sets_temporal_up_without_auto_setup_on_pinned_images() -> None:
    app = services("production")
    images = [
        service["image"] for service in app.values() if "ACTIVATION_IMAGE" not in service["image"]
    ]
    assert not [image for image in images if "auto-setup" in image]
    assert all(re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?", image) for image in images), images
    schema_job = " ".join(app["temporal-schema"]["command"])
    assert "setup-schema" in schema_job and "update-schema" in schema_job
    assert app["temporal"]["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )


@each_file
def test_the_temporal_ui_decrypts_through_the_apis_codec_endpoint(name: str) -> None:
    app = services(name)
    endpoint = app["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert "/codec/${ACTIVATION_CODEC_KEY:?" in endpoint  # the codec-only key: the UI shows it
    assert app["api"]["environment"]["ACTIVATION_CODEC_CORS_ORIGINS"]


def search_attribute_job(app: dict[str, Any]) -> str:
    """The one-off service that creates the search attributes (its name differs by file)."""
    (job,) = [
        name
        for name, service in app.items()
        if "search-attribute create" in " ".join(service.get("command", []))
    ]
    return job


@each_file
def test_services_start_in_order_and_report_health(name: str) -> None:
    app = services(name)
    assert app["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["worker"]["depends_on"][search_attribute_job(app)]["condition"] == (
        "service_completed_successfully"
    )
    for service in ("postgresql", "temporal", "api"):
        assert "healthcheck" in app[service]
    assert "replicas" in app["worker"]["deploy"]


@each_file
def test_the_search_attributes_the_code_uses_are_created(name: str) -> None:
    app = services(name)
    command = " ".join(app[search_attribute_job(app)]["command"])
    for key in SEARCH_ATTRIBUTES:
        assert key.name in command
