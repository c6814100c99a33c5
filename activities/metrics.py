"""Counting from an activity: through Temporal's metric meter, so the counts leave with the
worker's SDK metrics (docs/operations.md). Labels are names and outcomes, never personal data."""

from __future__ import annotations

from temporalio import activity


def count(metric: str, description: str, labels: dict[str, str]) -> None:
    """One more of `metric` with these labels (nothing outside an activity, as in unit tests)."""
    if activity.in_activity():
        activity.metric_meter().create_counter(metric, description).add(1, labels)
