"""Fixtures shared by these tests (defined in tests/airflow_support.py)."""

from __future__ import annotations

from tests.airflow_support import fake_clock

__all__ = ["fake_clock"]
