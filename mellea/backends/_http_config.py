"""What a backend's HTTP client is configured with, checked before any byte is sent:
header names and values, TLS (`verify=`, `cert=`) and the proxy the environment asks for.

Pure functions, no sockets: `check_headers` runs in constructors and per call,
`ssl_context` and `proxy_from_env` run once per backend, in a worker thread (they may
read files), when its first request opens the HTTP session (`_http_client.py`).
"""

from __future__ import annotations

import logging
import os
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import unquote, urlsplit

from ..core.errors import InvalidOptionError

logger = logging.getLogger("mellea")

Verify: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
"""`verify=`: True (the system's CA store), False (no verification: testing only), the
path of a CA bundle (PEM file or hashed directory), or a ready `ssl.SSLContext`."""
Cert: TypeAlias = "str | os.PathLike[str] | tuple[str, str] | tuple[str, str, str] | None"
"""`cert=`: a client certificate — one PEM file holding certificate and key, a
`(certfile, keyfile)` pair, or `(certfile, keyfile, password)`."""

# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Field values: no control characters except horizontal tab (RFC 9110 section 5.5).
_BAD_VALUE_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The request's framing and the connection are the HTTP client's to decide: a caller's
# Content-Length or Transfer-Encoding would desynchronise a pooled connection.
RESERVED_HEADERS = frozenset(
    "content-length transfer-encoding host connection keep-alive proxy-connection te "
    "trailer upgrade".split()
)


def check_headers(headers: Mapping[str, str] | None, where: str) -> dict[str, str]:
    """`headers` as a plain dict, or InvalidOptionError naming the first bad one.

    Refuses the headers that frame the request or manage the connection (Content-Length,
    Transfer-Encoding, Host, Connection and the other hop-by-hop ones), names that are
    not RFC 9110 tokens (spaces, colons, NUL, ...) and values with control characters
    (CR, LF, NUL, ...): each would change what the server reads as the request.
    """
    if not headers:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidOptionError(f"{where} must be a mapping of header names to values")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidOptionError(
                f"{where}: {name!r} is not a valid HTTP header name (letters, digits and "
                "!#$%&'*+-.^_`|~ only; no spaces, colons or control characters)"
            )
        if name.lower() in RESERVED_HEADERS:
            raise InvalidOptionError(
                f"{where}: the {name} header is set by mellea's HTTP client and cannot be "
                "given (it frames the request or manages the connection; put the host "
                "name in base_url)"
            )
        if not isinstance(value, str):
            raise InvalidOptionError(f"{where}: the value of {name} must be a str, got {value!r}")
        bad = _BAD_VALUE_CHAR.search(value)
        if bad is not None:
            raise InvalidOptionError(
                f"{where}: the value of {name} contains the control character "
                f"{bad.group()!r} (a stray newline in an API key?)"
            )
        checked[name] = value
    return checked


def with_injected(
    inject: Callable[[dict[str, str]], None], headers: dict[str, str] | None
) -> dict[str, str] | None:
    """`headers` (a request's own, checked) plus what `inject` adds — an observer's, e.g.
    OpenTelemetry's propagator writing `traceparent`. The request's own headers win; added
    ones are checked like any other, and dropped (logged) if they would not pass: an
    observer must never fail or reshape the request."""
    carrier: dict[str, str] = {}
    try:
        inject(carrier)
        added = check_headers(carrier, "injected headers")
    except Exception as exc:  # a misbehaving propagator: send the request without it
        logger.warning("mellea: headers from an observer were not added: %s", exc)
        return headers
    if not added:
        return headers
    if not headers:
        return added
    own = {name.lower() for name in headers}
    return {**{k: v for k, v in added.items() if k.lower() not in own}, **headers}


def check_tls_options(verify: object, cert: object) -> None:
    """Type checks of `verify=` / `cert=` at construction (files are read later)."""
    if not isinstance(verify, bool | str | os.PathLike | ssl.SSLContext):
        raise InvalidOptionError(
            f"verify= must be True, False, a CA bundle path or an ssl.SSLContext, got {verify!r}"
        )
    if cert is None or isinstance(cert, str | os.PathLike):
        return
    if isinstance(cert, tuple) and len(cert) in (2, 3) and all(isinstance(c, str) for c in cert):
        return
    raise InvalidOptionError(
        "cert= must be a PEM path, (certfile, keyfile) or (certfile, keyfile, password), "
        f"got {cert!r}"
    )


def ssl_context(verify: Verify, cert: Cert) -> ssl.SSLContext:
    """The TLS settings of one backend (blocking: reads the CA store and cert files).

    Offers ALPN `http/1.1`, the one protocol this client speaks.
    """
    if isinstance(verify, ssl.SSLContext):
        ctx = verify
    elif verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif verify is True:
        ctx = ssl.create_default_context()
    else:
        path = os.fspath(verify)
        try:
            if os.path.isdir(path):
                ctx = ssl.create_default_context(capath=path)
            else:
                ctx = ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidOptionError(
                f"verify={path!r}: cannot load the CA bundle ({exc})"
            ) from None
    if cert is not None:
        certfile, keyfile, password = _cert_parts(cert)
        try:
            ctx.load_cert_chain(certfile, keyfile, password)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidOptionError(
                f"cert={cert!r}: cannot load the client certificate ({exc})"
            ) from None
    if not isinstance(verify, ssl.SSLContext):  # a caller's own context stays as given
        ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _cert_parts(cert: Any) -> tuple[str, str | None, str | None]:
    if isinstance(cert, tuple):
        return cert[0], cert[1], cert[2] if len(cert) == 3 else None
    return os.fspath(cert), None, None


@dataclass(frozen=True)
class Proxy:
    """Where requests to one base URL go: a proxy URL (credentials removed) and the
    `Proxy-Authorization` header its credentials make, if any."""

    url: str
    headers: Mapping[str, str]


_PROXY_VARS = {"http": "HTTP_PROXY", "https": "HTTPS_PROXY", "all": "ALL_PROXY"}


def proxy_from_env(base_url: str) -> Proxy | None:
    """The proxy that HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (lower case too) name for
    `base_url`, unless NO_PROXY exempts its host; None for a direct connection.

    aiohttp speaks to `http://` and `https://` proxies (HTTPS targets through a CONNECT
    tunnel); any other scheme (socks5, ...) is an InvalidOptionError that says so.
    """
    import urllib.request  # ~10 ms: loaded here, in the worker thread, not at import

    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    key = parts.scheme if parts.scheme in proxies else "all"
    raw = proxies.get(key)
    if not raw or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    if "://" not in raw:
        raw = "http://" + raw
    proxy = urlsplit(raw)
    if proxy.scheme not in ("http", "https"):
        var = _PROXY_VARS.get(key, f"{key.upper()}_PROXY")
        raise InvalidOptionError(
            f"{var} names a {proxy.scheme}:// proxy for {base_url}, which mellea's HTTP client "
            "(aiohttp) cannot use: it supports http:// and https:// proxies. Point "
            f"{_PROXY_VARS.get(parts.scheme, 'HTTP_PROXY')} at an HTTP proxy, or exempt the "
            "host with NO_PROXY"
        )
    headers: dict[str, str] = {}
    if proxy.username is not None:
        import base64

        user_pass = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(user_pass.encode()).decode()
    netloc = proxy.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if proxy.port is not None:
        netloc += f":{proxy.port}"
    return Proxy(f"{proxy.scheme}://{netloc}", headers)


__all__ = [
    "RESERVED_HEADERS",
    "Cert",
    "Proxy",
    "Verify",
    "check_headers",
    "check_tls_options",
    "proxy_from_env",
    "ssl_context",
]
