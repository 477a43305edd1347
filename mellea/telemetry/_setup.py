"""Turning telemetry on and off: providers, tracers, meter, and the plugins on the hooks.

`import mellea` calls `setup_from_env()` when a `MELLEA_*` switch asks for telemetry (and
imports nothing of this package otherwise). `setup(...)` does the same from a
`TelemetryConfig` and/or providers the application made — the way to send mellea's
telemetry into an existing OpenTelemetry pipeline, or into in-memory exporters in tests;
`shutdown()` undoes it. At interpreter exit, spans still open (a session never closed)
are ended and the providers mellea built are flushed.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from ..core.utils import set_trace_correlation
from ._config import TelemetryConfig
from ._correlation import span_context_here
from ._spans import SPANS
from ._state import STATE

__all__ = ["setup", "setup_from_env", "shutdown"]

logger = logging.getLogger("mellea.telemetry")

_lock = threading.RLock()
_from_env_done = False
_exit_hook = False


def _version() -> str:
    from .. import __version__

    return __version__


def setup_from_env() -> None:
    """Set telemetry up as the environment says, once per process."""
    global _from_env_done
    with _lock:
        if _from_env_done:
            return
        _from_env_done = True
        setup()


def setup(
    config: TelemetryConfig | None = None,
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
) -> None:
    """(Re)configure telemetry: from `config` (default: the environment) and providers.

    A provider given turns its signal on and is used as it is (mellea does not shut it
    down). Otherwise a signal switched on in `config` gets a provider mellea builds with
    the exporters `config` names — or, with no exporter named, the global provider.
    Replaces any earlier setup.
    """
    config = config or TelemetryConfig.from_env()
    with _lock:
        shutdown()
        STATE.content = config.content
        STATE.chunk_events = config.chunk_events
        if tracer_provider is not None or config.traces:
            _setup_tracing(config, tracer_provider)
        if meter_provider is not None or config.metrics:
            _setup_metrics(config, meter_provider)
        if logger_provider is not None or config.logs_otlp:
            _setup_logs(config, logger_provider)
        _register_plugins()
        _ensure_exit_hook()


def _own(provider: Any, set_global: Any, get_global: Any) -> None:
    STATE.owned.append(provider)
    # Until the application sets a provider, OpenTelemetry's global is a proxy (its
    # class names say so: ProxyTracerProvider, _ProxyMeterProvider, ProxyLoggerProvider);
    # setting a second one would only log a warning.
    if "Proxy" in type(get_global()).__name__:
        set_global(provider)


def _setup_tracing(config: TelemetryConfig, provider: Any) -> None:
    from opentelemetry import trace

    from ._providers import build_tracer_provider

    if provider is None:
        provider = build_tracer_provider(config)
        if provider is not None:
            _own(provider, trace.set_tracer_provider, trace.get_tracer_provider)
    source = provider if provider is not None else trace.get_tracer_provider()
    STATE.application_tracer = source.get_tracer("mellea.application", _version())
    STATE.backend_tracer = source.get_tracer("mellea.backend", _version())
    STATE.tracing = True
    # Log records (any handler with mellea's OtelTraceFilter) name the span of the mellea
    # operation they were logged in.
    set_trace_correlation(span_context_here)
    # User code mellea runs (tools, validation functions) sees the operation's span as
    # the current one, and HTTP requests carry their span's trace context.
    from ._propagation import install

    install()


def _setup_metrics(config: TelemetryConfig, provider: Any) -> None:
    from opentelemetry import metrics

    from ._providers import build_meter_provider
    from .metrics import Instruments
    from .pricing import is_pricing_enabled, preload_prices

    if provider is None:
        provider = build_meter_provider(config)
        if provider is not None:
            _own(provider, metrics.set_meter_provider, metrics.get_meter_provider)
    source = provider if provider is not None else metrics.get_meter_provider()
    STATE.meter = source.get_meter("mellea", _version())
    STATE.instruments = Instruments.on(STATE.meter)
    STATE.metrics = True
    if is_pricing_enabled():
        preload_prices()


def _setup_logs(config: TelemetryConfig, provider: Any) -> None:
    from ._providers import build_logger_provider
    from .logging import make_handler

    if provider is None:
        from opentelemetry import _logs

        provider = build_logger_provider(config)
        if provider is None:
            return
        _own(provider, _logs.set_logger_provider, _logs.get_logger_provider)
    STATE.logger_provider = provider
    if config.logs_otlp:  # asked for by the environment: the mellea logger exports
        STATE.log_handler = make_handler(provider)
        logging.getLogger("mellea").addHandler(STATE.log_handler)
    STATE.logs = True


def _register_plugins() -> None:
    from ..plugins import register

    classes: list[Any] = []
    if STATE.tracing:
        from .tracing_plugins import TRACING_PLUGINS

        classes += TRACING_PLUGINS
    if STATE.metrics:
        from .metrics_plugins import METRICS_PLUGINS

        classes += METRICS_PLUGINS
    STATE.plugins = [cls() for cls in classes]
    if STATE.plugins:
        register(STATE.plugins)


def shutdown() -> None:
    """Turn telemetry off: remove its plugins and handler, flush and close what mellea built.

    Spans still open are ended first (marked `mellea.unfinished`).
    """
    with _lock:
        if STATE.plugins:
            from ..plugins import unregister

            unregister(STATE.plugins)
        for span in SPANS.pop_all():
            span.set_attribute("mellea.unfinished", True)
            span.end()
        set_trace_correlation(None)
        if STATE.tracing:
            from ._propagation import uninstall

            uninstall()
        if STATE.log_handler is not None:
            logging.getLogger("mellea").removeHandler(STATE.log_handler)
        owned = list(STATE.owned)
        STATE.reset()
        for provider in owned:
            try:
                provider.shutdown()
            except Exception:  # flushing to a collector that is gone must not raise here
                logger.debug("telemetry provider shutdown failed", exc_info=True)


def _ensure_exit_hook() -> None:
    global _exit_hook
    if not _exit_hook:
        _exit_hook = True
        atexit.register(shutdown)
