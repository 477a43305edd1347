"""Telemetry is opt-in: off, `import mellea` loads nothing of it; each switch turns it on.

Each case is a fresh interpreter (telemetry is configured once, at `import mellea`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mellea.telemetry._config import SWITCHES

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MELLEA_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


PROBE = """
import json, sys
import mellea
from mellea.core import hooks
print(json.dumps({
    "otel": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
    "telemetry": sorted(m for m in sys.modules if m.startswith("mellea.telemetry")),
    "hooks": sorted(hooks.active),
}))
"""


def test_off_by_default_and_nothing_loaded() -> None:
    done = run(PROBE)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"otel": [], "telemetry": [], "hooks": []}


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_turns_telemetry_on(switch: str) -> None:
    done = run(PROBE, **{switch: "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert "mellea.telemetry._setup" in seen["telemetry"]
    if switch == "MELLEA_LOGS_OTLP":  # logs only: no plugin on the hooks
        assert seen["hooks"] == []
    else:
        assert "generation_post_call" in seen["hooks"]


def test_false_values_stay_off() -> None:
    done = run(PROBE, MELLEA_TRACES_ENABLED="false", MELLEA_METRICS_ENABLED="0")
    assert json.loads(done.stdout)["telemetry"] == []


def test_status_functions_follow_the_environment() -> None:
    code = (
        "from mellea.telemetry import is_metrics_enabled, is_tracing_enabled, "
        "is_content_tracing_enabled\n"
        "print(is_tracing_enabled(), is_metrics_enabled(), is_content_tracing_enabled())"
    )
    assert run(code).stdout.split() == ["False", "False", "False"]
    on = run(code, MELLEA_TRACES_ENABLED="1", MELLEA_TRACES_CONTENT="yes")
    assert on.stdout.split() == ["True", "False", "True"], on.stderr
    # OpenTelemetry's own switch for message content works too.
    std = run(
        code, MELLEA_TRACES_ENABLED="1", OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true"
    )
    assert std.stdout.split() == ["True", "False", "True"]


def test_metrics_without_exporter_warn_and_still_count() -> None:
    code = (
        "import warnings\nwarnings.simplefilter('always')\n"
        "from mellea.telemetry import is_metrics_enabled\nprint(is_metrics_enabled())"
    )
    done = run(code, MELLEA_METRICS_ENABLED="true")
    assert done.stdout.strip() == "True"
    assert "no exporters are configured" in done.stderr


def test_otlp_without_endpoint_warns() -> None:
    done = run("import mellea", MELLEA_TRACES_ENABLED="true", MELLEA_TRACES_OTLP="true")
    assert done.returncode == 0
    assert "no OTLP endpoint is configured" in done.stderr
