"""Requirements for plotting programs (see `mellea.stdlib.requirements.plotting.matplotlib`)."""

from .matplotlib import (
    MatplotlibHeadlessBackend,
    PlotDependenciesAvailable,
    PlotFileSaved,
    python_plotting_requirements,
)

__all__ = [
    "MatplotlibHeadlessBackend",
    "PlotDependenciesAvailable",
    "PlotFileSaved",
    "python_plotting_requirements",
]
