"""Sampling algorithms used by strategies (budget forcing)."""

from .budget_forcing_alg import think_budget_forcing

__all__ = ["think_budget_forcing"]
