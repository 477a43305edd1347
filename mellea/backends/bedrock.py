"""AWS Bedrock through the engines mellea already has.

- `create_bedrock_openai_backend`: Bedrock's OpenAI-compatible "mantle" endpoint
  (`https://bedrock-mantle.<region>.api.aws/v1`) with an `OpenAIBackend`; needs a
  Bedrock API key in `AWS_BEARER_TOKEN_BEDROCK`.
- `create_bedrock_litellm_backend`: Bedrock's native API through LiteLLM (the
  `mellea[litellm]` extra); takes any AWS credential LiteLLM takes (API key, access keys,
  a profile, an instance role).

The factories do no network I/O: a model the region does not serve fails on its first
request (HTTP 404). `list_mantle_models` asks the endpoint which models it serves.
Missing configuration (region, credentials, a model without a Bedrock name) raises
`InvalidOptionError` before anything is sent.
"""

from __future__ import annotations

import importlib
import json
import os
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import BackendStatusError, BackendUnavailableError, InvalidOptionError
from .model_ids import ModelIdentifier

if TYPE_CHECKING:
    from .litellm import LiteLLMBackend
    from .openai import OpenAIBackend

TOKEN_ENV = "AWS_BEARER_TOKEN_BEDROCK"
REGION_ENVS = ("AWS_REGION_NAME", "AWS_DEFAULT_REGION", "AWS_REGION")
DEFAULT_MANTLE_REGION = "us-east-1"
MANTLE_URL_ENV = "MELLEA_BEDROCK_MANTLE_URL"
"""Overrides the mantle endpoint URL (a proxy, or a test server)."""
_NEW_ISSUE = "https://github.com/generative-computing/mellea/issues/new"


@dataclass(frozen=True)
class MantleModel:
    """A model the mantle endpoint serves (`id` is the name to pass as `model_id`)."""

    id: str
    owned_by: str | None = None
    created: int | None = None


def _region(region: str | None) -> str | None:
    return region or next((os.environ[e] for e in REGION_ENVS if os.environ.get(e)), None)


def _mantle_url(region: str | None) -> str:
    override = os.environ.get(MANTLE_URL_ENV)
    if override:
        return override.rstrip("/")
    return f"https://bedrock-mantle.{_region(region) or DEFAULT_MANTLE_REGION}.api.aws/v1"


def _bearer_token() -> str:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise InvalidOptionError(
            f"Bedrock's OpenAI-compatible endpoint needs an API key in {TOKEN_ENV} (create "
            "one in the Bedrock console under 'API keys'); with ordinary AWS credentials "
            "use create_bedrock_litellm_backend instead"
        )
    return token


def _bedrock_name(model_id: ModelIdentifier | str, field: str) -> str:
    if isinstance(model_id, ModelIdentifier):
        name = getattr(model_id, field)
        if not name:
            raise InvalidOptionError(
                f"{model_id} has no known Bedrock model id ({field}); pass Bedrock's model "
                f"id as a string (and consider reporting it: {_NEW_ISSUE})"
            )
        return str(name)
    if not isinstance(model_id, str) or not model_id.strip():
        raise InvalidOptionError(f"model_id must be a ModelIdentifier or a str, got {model_id!r}")
    return model_id


def list_mantle_models(region: str | None = None) -> list[MantleModel]:
    """The models Bedrock's mantle endpoint serves in `region` (blocking HTTP GET).

    Raises `InvalidOptionError` without an API key, `BackendStatusError` when the endpoint
    refuses (e.g. HTTP 401), `BackendUnavailableError` when it cannot be reached.
    """
    url = f"{_mantle_url(region)}/models"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {_bearer_token()}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise BackendStatusError(
            f"Bedrock mantle answered HTTP {exc.code} listing models: {detail}",
            status_code=exc.code,
            body=detail,
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise BackendUnavailableError(f"could not reach Bedrock mantle at {url}: {exc}") from exc
    return [
        MantleModel(str(m["id"]), m.get("owned_by"), m.get("created"))
        for m in body.get("data", [])
        if isinstance(m, dict) and m.get("id")
    ]


def stringify_mantle_model_ids(region: str | None = None) -> str:
    """The served model ids, one `" * <id>"` line each (for error messages and the REPL)."""
    return "\n".join(f" * {m.id}" for m in list_mantle_models(region))


def create_bedrock_openai_backend(
    model_id: ModelIdentifier | str, region: str | None = None
) -> OpenAIBackend:
    """An `OpenAIBackend` on Bedrock's mantle endpoint for `model_id`.

    `model_id` is a `ModelIdentifier` with a `bedrock_name` or Bedrock's model id as a
    string; `region` defaults to `AWS_REGION_NAME` / `AWS_DEFAULT_REGION` / `AWS_REGION`,
    then us-east-1. The API key comes from `AWS_BEARER_TOKEN_BEDROCK`.
    """
    from .openai import OpenAIBackend

    name = _bedrock_name(model_id, "bedrock_name")
    return OpenAIBackend(name, base_url=_mantle_url(region), api_key=_bearer_token())


def create_bedrock_mantle_backend(
    model_id: ModelIdentifier | str, region: str | None = None
) -> OpenAIBackend:
    """Deprecated name of `create_bedrock_openai_backend`."""
    warnings.warn(
        "create_bedrock_mantle_backend is deprecated; use create_bedrock_openai_backend",
        DeprecationWarning,
        stacklevel=2,
    )
    return create_bedrock_openai_backend(model_id, region)


def _check_aws_credentials() -> None:
    if os.environ.get(TOKEN_ENV):
        return
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return
    try:
        boto3 = importlib.import_module("boto3")  # optional: profiles, SSO, instance roles
    except ImportError:
        raise InvalidOptionError(
            f"no AWS credentials found: set {TOKEN_ENV} (a Bedrock API key) or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for profiles and instance roles "
            "install boto3 (`pip install boto3`)"
        ) from None
    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise InvalidOptionError(
            f"no AWS credentials found: set {TOKEN_ENV}, AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance role"
        )


def create_bedrock_litellm_backend(
    model_id: ModelIdentifier | str, region: str | None = None, num_retries: int = 3
) -> LiteLLMBackend:
    """A `LiteLLMBackend` on Bedrock's native API for `model_id`.

    `model_id` is a `ModelIdentifier` with a `bedrock_litellm_name` or a LiteLLM model
    string (`"bedrock/converse/<model id>"`). A region is required (`region=` or
    `AWS_REGION_NAME` / `AWS_DEFAULT_REGION` / `AWS_REGION`). `num_retries` retries
    failures before any output (mellea's retry policy, not LiteLLM's).
    """
    from ._policy import RetryPolicy
    from .litellm import LiteLLMBackend

    name = _bedrock_name(model_id, "bedrock_litellm_name")
    resolved = _region(region)
    if resolved is None:
        raise InvalidOptionError(
            "Bedrock needs a region: pass region= or set one of " + ", ".join(REGION_ENVS)
        )
    _check_aws_credentials()
    return LiteLLMBackend(
        name,
        model_options={"aws_region_name": resolved},
        retry=RetryPolicy(max_retries=num_retries),
    )


__all__ = [
    "MantleModel",
    "create_bedrock_litellm_backend",
    "create_bedrock_mantle_backend",
    "create_bedrock_openai_backend",
    "list_mantle_models",
    "stringify_mantle_model_ids",
]
