"""The workflow contracts: the plain dataclasses that cross the workflow boundary, one module per
flow (its start input, its state, each activity's and update's input, how it refuses once
closed). No SQLAlchemy here: workflows import these and nothing of `models.records.outbox`."""
