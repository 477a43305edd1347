from mellea.telemetry import is_metrics_enabled, is_tracing_enabled

print(f"Tracing: {is_tracing_enabled()}")
print(f"Metrics: {is_metrics_enabled()}")
