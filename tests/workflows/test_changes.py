"""The release that stands for the changes made before it (workflows/changes.py). A flow that
takes it is tests/bench/test_flow_costs.py's activation (one marker), and its history is saved
for the replay test; the histories saved before it replay through each change's own patch."""

from __future__ import annotations

import pytest

from workflows.changes import RELEASED
from workflows.changes import taken


def test_a_change_made_after_the_release_cannot_be_asked_through_it() -> None:
    with pytest.raises(ValueError, match="ask workflow.patched"):
        taken("a-later-change")
    assert "a-later-change" not in RELEASED
