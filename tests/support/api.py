"""What the API tests send."""

from __future__ import annotations

AUTH = {"Authorization": "Bearer test-api-key-of-16-chars"}
