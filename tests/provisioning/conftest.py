"""Provisioning tests: the real worker on the time-skipping server, and the vendor's product
backend (`backend`, tests/conftest.py) as a real HTTP server on loopback. The service runs in
development here, the one environment that may call loopback (one test runs it under
production's address rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from tests.support.product_backend import FakeBackend
from tests.support.product_backend import with_backend


@pytest.fixture
def settings(settings: Settings, backend: FakeBackend, tmp_path: Path) -> Settings:
    return with_backend(settings, backend, tmp_path)
