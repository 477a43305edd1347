"""The reference's older name for the generative-function module (`genstub`)."""

from .genstub import PreconditionException, generative

__all__ = ["PreconditionException", "generative"]
