"""TLS (`verify=`, `cert=`, ALPN) and proxies from the environment (issue 17, "Why" 5),
through a TLS front and a forward proxy on 127.0.0.1 with a throwaway CA (`trustme`)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import BackendError, BackendUnavailableError, InvalidOptionError
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

from ._raw import ForwardProxy, TlsFront

pytestmark = pytest.mark.timeout(60)
PROXY_VARS = [
    v for n in ("http", "https", "all", "no") for v in (f"{n}_proxy", f"{n.upper()}_PROXY")
]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _server_context(ca: trustme.CA, *, client_certs: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    ctx.set_alpn_protocols(["http/1.1"])
    if client_certs:
        ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


@pytest.fixture
def tls(ca: trustme.CA, loopback: LoopbackServer, no_proxy_env: Any) -> Iterator[TlsFront]:
    front = TlsFront(_server_context(ca), loopback.port)
    try:
        yield front
    finally:
        front.close()


def _openai(url: str, **kw: Any) -> MelleaSession:
    return MelleaSession(OpenAIBackend("m", base_url=f"{url}/v1", **kw))


def test_verify_with_a_ca_bundle_and_alpn(tls: TlsFront, ca_file: str) -> None:
    m = _openai(f"https://127.0.0.1:{tls.port}", verify=ca_file)
    assert m.instruct("over tls").value == "Echo: over tls"
    m.close()
    assert tls.alpn == ["http/1.1"]  # one connection, ALPN offered and chosen


def test_verify_with_an_ssl_context_or_off(tls: TlsFront, ca: trustme.CA) -> None:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    for verify in (ctx, False):
        m = MelleaSession(
            OllamaModelBackend("m", base_url=f"https://127.0.0.1:{tls.port}", verify=verify)
        )
        assert m.instruct("hi").value == "Echo: hi"
        m.close()


async def test_an_untrusted_certificate_is_a_typed_error_not_retried(tls: TlsFront) -> None:
    m = _openai(f"https://127.0.0.1:{tls.port}")  # verify=True: the system store
    mot = await m.ainstruct("x")
    with pytest.raises(BackendUnavailableError, match="failed verification") as info:
        await mot.avalue()
    assert not info.value.retryable and "verify=" in str(info.value)
    assert mot.generation.attempts == 1  # a bad certificate is not retried
    assert tls.alpn == []  # no handshake completed
    await m.aclose()


def test_client_certificate(
    ca: trustme.CA, loopback: LoopbackServer, ca_file: str, tmp_path: Path, no_proxy_env: Any
) -> None:
    front = TlsFront(_server_context(ca, client_certs=True), loopback.port)
    client = ca.issue_cert("client@example.org")
    pem = tmp_path / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(pem))
    try:
        url = f"https://127.0.0.1:{front.port}"
        m = _openai(url, verify=ca_file, cert=str(pem))
        assert m.instruct("with cert").value == "Echo: with cert"
        m.close()
        assert front.peer_certs[-1] is not None  # the server saw our certificate
        bare = _openai(url, verify=ca_file, retry=None)
        with pytest.raises(BackendError):  # refused by the server: typed, not a hang
            bare.instruct("no cert")
        bare.close()
    finally:
        front.close()


def test_bad_tls_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError, match="verify="):
        OpenAIBackend("m", base_url="https://x/v1", verify=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="cert="):
        OpenAIBackend("m", base_url="https://x/v1", cert=("a",))  # type: ignore[arg-type]
    m = _openai("https://127.0.0.1:9", verify=str(tmp_path / "missing.pem"))
    with pytest.raises(InvalidOptionError, match="cannot load the CA bundle"):
        m.instruct("x")  # files are read on first use, off the event loop
    m.close()


# ----- proxies -----------------------------------------------------------------------


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    p = ForwardProxy()
    try:
        yield p
    finally:
        p.close()


@pytest.mark.parametrize("var", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_requests_go_through_the_proxy_the_environment_names(
    loopback: LoopbackServer, proxy: ForwardProxy, no_proxy_env: pytest.MonkeyPatch, var: str
) -> None:
    no_proxy_env.setenv(var, proxy.url)
    m = _openai(loopback.url)
    assert m.instruct("via proxy").value == "Echo: via proxy"
    assert m.instruct("again").value == "Echo: again"
    m.close()
    assert proxy.seen == [f"POST {loopback.url}/v1/chat/completions"] * 2


def test_no_proxy_exempts_a_host(
    loopback: LoopbackServer, proxy: ForwardProxy, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    no_proxy_env.setenv("NO_PROXY", "localhost,127.0.0.1")
    m = _openai(loopback.url)
    assert m.instruct("direct").value == "Echo: direct"
    m.close()
    assert proxy.seen == []


def test_https_through_a_proxy_tunnel(
    tls: TlsFront, proxy: ForwardProxy, ca_file: str, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    m = _openai(f"https://127.0.0.1:{tls.port}", verify=ca_file)
    assert m.instruct("tunnelled").value == "Echo: tunnelled"
    m.close()
    assert proxy.seen == [f"CONNECT 127.0.0.1:{tls.port}"]
    assert tls.alpn == ["http/1.1"]  # TLS end to end, through the tunnel


def test_a_socks_proxy_is_a_clear_error(
    loopback: LoopbackServer, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    m = _openai(loopback.url)
    with pytest.raises(InvalidOptionError, match=r"ALL_PROXY names a socks5:// proxy") as info:
        m.instruct("x")
    assert "http:// and https://" in str(info.value) and "NO_PROXY" in str(info.value)
    assert loopback.stats().total_requests == 0
    m.close()
