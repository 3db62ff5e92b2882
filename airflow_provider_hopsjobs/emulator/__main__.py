"""``python -m airflow_provider_hopsjobs.emulator`` (same flags as ``hopsjobs emulator``)."""

from airflow_provider_hopsjobs.emulator.cli import main

raise SystemExit(main())
