"""Agent loops built on the session primitives (`react`)."""
