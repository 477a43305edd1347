from mellea.telemetry import is_metrics_enabled

if is_metrics_enabled():
    print("Metrics are being collected")
