"""Bedrock factories (over the OpenAI and LiteLLM backends) and server-type detection,
against the loopback server."""

from __future__ import annotations

import pytest

from mellea.backends import model_ids
from mellea.backends.bedrock import (
    MantleModel,
    create_bedrock_litellm_backend,
    create_bedrock_mantle_backend,
    create_bedrock_openai_backend,
    list_mantle_models,
    stringify_mantle_model_ids,
)
from mellea.backends.litellm import LiteLLMBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import BackendStatusError, BackendUnavailableError, InvalidOptionError
from mellea.helpers.server_type import (
    _server_type,
    _ServerType,
    is_vllm_server_with_structured_output,
)
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

AWS_VARS = ("AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION_NAME", "AWS_DEFAULT_REGION", "AWS_REGION",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
            "MELLEA_BEDROCK_MANTLE_URL")  # fmt: skip


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    # boto3 must not find credentials of the machine running the tests.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/none")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp_path}/none")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_openai_factory_targets_the_regions_mantle_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(InvalidOptionError, match="AWS_BEARER_TOKEN_BEDROCK"):
        create_bedrock_openai_backend("openai.gpt-oss-20b")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "tok")
    backend = create_bedrock_openai_backend(model_ids.OPENAI_GPT_OSS_20B, region="eu-west-1")
    assert isinstance(backend, OpenAIBackend)
    assert backend.model_id == "openai.gpt-oss-20b"
    assert backend.base_url == "https://bedrock-mantle.eu-west-1.api.aws/v1"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert create_bedrock_openai_backend("x").base_url.startswith(
        "https://bedrock-mantle.us-west-2"
    )
    with pytest.raises(InvalidOptionError, match="no known Bedrock model id"):
        create_bedrock_openai_backend(model_ids.IBM_GRANITE_4_1_3B)
    with pytest.deprecated_call():
        assert isinstance(create_bedrock_mantle_backend("x"), OpenAIBackend)


def test_openai_factory_backend_talks_to_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "secret-token")
    monkeypatch.setenv("MELLEA_BEDROCK_MANTLE_URL", loopback.openai_base_url)
    loopback.configure(models=["openai.gpt-oss-20b", "nvidia.nemotron-nano-9b-v2"])
    assert list_mantle_models() == [
        MantleModel("openai.gpt-oss-20b", "loopback", 1735689600),
        MantleModel("nvidia.nemotron-nano-9b-v2", "loopback", 1735689600),
    ]
    assert stringify_mantle_model_ids() == " * openai.gpt-oss-20b\n * nvidia.nemotron-nano-9b-v2"
    m = MelleaSession(create_bedrock_openai_backend(model_ids.OPENAI_GPT_OSS_20B))
    assert m.instruct("Hello there").value == "Echo: Hello there"
    (request,) = loopback.stats().for_path("/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer secret-token"
    assert request.body["model"] == "openai.gpt-oss-20b"


def test_listing_failures_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "t")
    monkeypatch.setenv("MELLEA_BEDROCK_MANTLE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(BackendUnavailableError):
        list_mantle_models()


def test_listing_http_error_is_typed(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "t")
    monkeypatch.setenv("MELLEA_BEDROCK_MANTLE_URL", loopback.url + "/nowhere")
    with pytest.raises(BackendStatusError) as info:
        list_mantle_models()
    assert info.value.status_code == 404


def test_litellm_factory_needs_region_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    name = model_ids.NVIDIA_NEMOTRON_NANO_9B_V2
    with pytest.raises(InvalidOptionError, match="region"):
        create_bedrock_litellm_backend(name)
    with pytest.raises(InvalidOptionError, match="no AWS credentials"):
        create_bedrock_litellm_backend(name, region="us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    backend = create_bedrock_litellm_backend(name, region="us-east-1", num_retries=1)
    assert isinstance(backend, LiteLLMBackend)
    assert backend.model_id == "bedrock/converse/nvidia.nemotron-nano-9b-v2"
    assert backend.model_options["aws_region_name"] == "us-east-1"
    assert backend.retry.max_retries == 1
    with pytest.raises(InvalidOptionError, match="bedrock_litellm_name"):
        create_bedrock_litellm_backend(model_ids.QWEN3_8B, region="us-east-1")


def test_server_type_by_host() -> None:
    assert _server_type("http://localhost:8000/v1") is _ServerType.LOCALHOST
    assert _server_type("http://[::1]:8000") is _ServerType.LOCALHOST
    assert _server_type("https://api.openai.com/v1") is _ServerType.OPENAI
    assert _server_type("https://vllm.example.com/v1") is _ServerType.UNKNOWN
    assert _server_type("not a url") is _ServerType.UNKNOWN


def test_vllm_structured_outputs_probe(loopback: LoopbackServer) -> None:
    url = loopback.openai_base_url
    assert not is_vllm_server_with_structured_output(url, {})  # no /version: not vLLM
    for version, expected in [("0.16.0rc1.dev172+gd88a1df69", True), ("0.12.0", True),
                              ("0.12.0rc2", False), ("0.11.2", False)]:  # fmt: skip
        loopback.configure(vllm_version=version)
        assert is_vllm_server_with_structured_output(url, {"x-key": "k"}) is expected, version
    probe = loopback.stats().for_path("/version")[-1]
    assert probe.headers["x-key"] == "k"
    # Link-local hosts (cloud metadata endpoints) are never asked.
    assert not is_vllm_server_with_structured_output("http://169.254.169.254/v1", {})
