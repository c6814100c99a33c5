from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.app import create_app
from core.settings import DEV_API_KEY, Settings


def test_development_defaults_to_the_dev_api_key() -> None:
    assert Settings(_env_file=None).api_keys == [DEV_API_KEY]


def test_api_keys_come_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIVATION_API_KEYS", "key-one-0123456789, key-two-0123456789")
    assert Settings(_env_file=None).api_keys == ["key-one-0123456789", "key-two-0123456789"]


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # the development secret key
        {"secret_key": "short"},
        {"secret_key": "k" * 40, "api_keys": [DEV_API_KEY]},
    ],
)
def test_production_refuses_placeholder_secrets(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"environment": "production", **overrides})


def test_the_api_refuses_to_start_without_keys_outside_development() -> None:
    settings = Settings(_env_file=None, environment="production", secret_key="k" * 40)
    with pytest.raises(RuntimeError):
        create_app(settings)
