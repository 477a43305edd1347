"""The telemetry state of the process: which signals are on, and what records them.

One instance, `STATE`, written only by `_setup` (under its lock) and read everywhere else.
Nothing here imports OpenTelemetry: with telemetry off every field keeps its default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATE", "TelemetryState"]


@dataclass
class TelemetryState:
    """What is on, and the OpenTelemetry objects that record it.

    - `tracing` / `metrics` / `logs` — the signals set up;
    - `content` — prompt and response text may go on spans (`MELLEA_TRACES_CONTENT`);
    - `chunk_events` — per-chunk span events and time-per-chunk (`MELLEA_GENERATION_CHUNK_EVENTS`);
    - `application_tracer` / `backend_tracer` — the `mellea.application` / `mellea.backend`
      tracers; `meter` — the `mellea` meter, `instruments` — mellea's own instruments on it
      (`metrics.Instruments`);
    - `owned` — providers mellea built (and shuts down); providers given by the
      application are not in it;
    - `plugins` — the telemetry plugins registered on the hook mechanism;
    - `log_handler` — the OTLP logging handler, when `MELLEA_LOGS_OTLP` made one.
    """

    tracing: bool = False
    metrics: bool = False
    logs: bool = False
    content: bool = False
    chunk_events: bool = False
    pricing: bool | None = None
    application_tracer: Any = None
    backend_tracer: Any = None
    meter: Any = None
    instruments: Any = None
    logger_provider: Any = None
    log_handler: Any = None
    owned: list[Any] = field(default_factory=list)
    plugins: list[Any] = field(default_factory=list)

    def reset(self) -> None:
        """Every field back to its default (telemetry off)."""
        self.__dict__.update(TelemetryState().__dict__)


STATE = TelemetryState()
