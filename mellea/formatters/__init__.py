"""Formatters: how components become prompt text and chat messages."""
