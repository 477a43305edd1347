"""What users call: sessions, contexts, components, the functional API."""
