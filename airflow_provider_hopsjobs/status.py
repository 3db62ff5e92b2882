"""Temporary bridge while the redesign moves callers to :mod:`.execution` (removed before landing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_hopsjobs.execution import TERMINAL_STATES, Execution, Outcome


def is_terminal(state: str | None) -> bool:
    return (state or "").upper() in TERMINAL_STATES


def outcome_of(execution: Mapping[str, Any], job_type: str | None = None) -> Outcome:
    return Execution.from_dto(execution, job_name="", job_type=job_type).outcome
