"""Small utilities: the sync-over-async portal, thunk helpers, templating."""
