"""docs/settings.md names every setting, by its full variable, and no variable that is not one."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import Settings

DOC = Path(__file__).parent.parent / "docs" / "settings.md"


def test_the_settings_page_names_every_setting_and_nothing_else() -> None:
    named = set(re.findall(r"^\| `ACTIVATION_([A-Z0-9_]+)` \|", DOC.read_text(), re.M))
    assert named == {name.upper() for name in Settings.model_fields}
