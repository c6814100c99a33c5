from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.app import create_app
from core.payload_codec import new_key_entry
from core.settings import DEV_API_KEY
from core.settings import Settings


def test_development_defaults_to_the_dev_api_key() -> None:
    assert Settings(_env_file=None, environment="development").api_keys == [DEV_API_KEY]


def test_without_an_environment_it_is_production_and_refuses_the_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACTIVATION_ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="ACTIVATION_SECRET_KEY"):
        Settings(_env_file=None)


def test_the_image_runs_as_production() -> None:
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    assert "ACTIVATION_ENVIRONMENT=production" in dockerfile


def test_api_keys_come_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIVATION_API_KEYS", "key-one-0123456789, key-two-0123456789")
    keys = Settings(_env_file=None, environment="development").api_keys
    assert keys == ["key-one-0123456789", "key-two-0123456789"]


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize(
    "overrides",
    [
        {},  # the development secret key
        {"secret_key": "short"},
        {"secret_key": "k" * 40, "api_keys": [DEV_API_KEY]},
        {"secret_key": "k" * 40},  # no payload key: Temporal would keep personal data readable
    ],
)
def test_every_environment_but_development_refuses_placeholder_secrets(
    environment: str, overrides: dict[str, object]
) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"environment": environment, **overrides})


def test_the_api_refuses_to_start_without_keys_outside_development() -> None:
    settings = Settings(
        _env_file=None,
        environment="production",
        secret_key="k" * 40,
        payload_keys=[new_key_entry("k1")],
    )
    with pytest.raises(RuntimeError):
        create_app(settings)


def test_the_development_mailbox_is_never_in_the_openapi_schema() -> None:
    app = create_app(Settings(_env_file=None, environment="development"))
    assert app.url_path_for("dev_mailbox") == "/dev/mailbox"  # served, but not advertised
    assert not any(path.startswith("/dev") for path in app.openapi()["paths"])


def test_production_requires_a_payload_key_and_refuses_a_malformed_one() -> None:
    production = {"environment": "production", "secret_key": "k" * 40, "api_keys": ["a" * 20]}
    with pytest.raises(ValidationError, match="ACTIVATION_PAYLOAD_KEYS"):
        Settings.model_validate(production)
    with pytest.raises(ValidationError, match="32 bytes in base64"):
        Settings.model_validate(production | {"payload_keys": "k1:c2hvcnQ="})
    with pytest.raises(ValidationError, match="OPERATOR_KEYS"):
        Settings.model_validate(
            production | {"payload_keys": [new_key_entry("k1")], "operator_keys": "short"}
        )
    keys = f"{new_key_entry('k2')}, {new_key_entry('k1')}"  # as the environment gives them
    assert [
        k.split(":")[0]
        for k in Settings.model_validate(production | {"payload_keys": keys}).payload_keys
    ] == ["k2", "k1"]
