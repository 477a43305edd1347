"""Untrusted text never runs code: prompt templates render in Jinja's immutable sandbox.

An instruction's description (and requirement texts, examples, grounding context, chat
content) is rendered as a template when `user_variables` are given; a program that puts a
user's message there must not let that message reach Python. The escapes below are the
classic server-side template injection payloads; every one is refused with
`InvalidOptionError` before any request, and variable values stay inert data.
(`test_serve_untrusted.py` sends the same escapes through `m serve`.)
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core.errors import InvalidOptionError
from mellea.helpers.templating import render
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.getcwd() }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__['os'].getcwd() }}",
    "{{ lipsum.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ name|attr('__class__') }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(name) }}",
    "{{ config.__class__.__init__.__globals__['os'].getcwd() }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ items.append(1) }}",  # the immutable sandbox refuses mutating methods
    "{{ 'a' * 10**12 }}",  # memory bomb
    "{{ 9 ** (9 ** 9) }}",  # CPU bomb
    "{{ range(10**9)|list }}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_render_refuses_escape(escape: str) -> None:
    with pytest.raises(InvalidOptionError):
        render(escape, {"name": "Olivia", "items": [1, 2]})


def test_variable_values_are_data_not_templates() -> None:
    payload = "{{ cycler.__init__.__globals__.os.getcwd() }}"
    assert render("Hi {{ name }}!", {"name": payload}) == f"Hi {payload}!"
    assert render("{{ a }} {{ b|upper }}", {"a": 1, "b": "x"}) == "1 X"


def test_missing_variable_is_typed() -> None:
    with pytest.raises(InvalidOptionError, match="missing"):
        render("{{ nope }}", {"name": 1})


def _session(srv: LoopbackServer) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url))


@pytest.mark.parametrize("escape", ESCAPES[:6])
def test_instruct_refuses_escape_in_description(loopback: LoopbackServer, escape: str) -> None:
    m = _session(loopback)
    with pytest.raises(InvalidOptionError, match="sandbox"):
        m.instruct(f"Answer the user: {escape}", user_variables={"name": "Olivia"})
    assert loopback.stats().for_path("/api/chat") == []  # refused before any request


@pytest.mark.parametrize(
    "where",
    ["requirements", "icl_examples", "grounding_context"],
)
def test_instruct_refuses_escape_elsewhere(loopback: LoopbackServer, where: str) -> None:
    escape = ESCAPES[0]
    kwargs: dict[str, Any] = {
        "requirements": {"requirements": [escape]},
        "icl_examples": {"icl_examples": [escape]},
        "grounding_context": {"grounding_context": {"doc": escape}},
    }[where]
    with pytest.raises(InvalidOptionError, match="sandbox"):
        _session(loopback).instruct("Hello {{ name }}", user_variables={"name": "x"}, **kwargs)


def test_chat_refuses_escape(loopback: LoopbackServer) -> None:
    with pytest.raises(InvalidOptionError, match="sandbox"):
        _session(loopback).chat(ESCAPES[3], user_variables={"name": "x"})


def test_user_text_as_variable_reaches_the_model_verbatim(loopback: LoopbackServer) -> None:
    escape = ESCAPES[0]
    reply = _session(loopback).instruct(
        "Answer the user: {{ message }}", user_variables={"message": escape}
    )
    sent = loopback.stats().for_path("/api/chat")[0].body["messages"][-1]["content"]
    assert escape in sent and os.getcwd() not in sent
    assert os.getcwd() not in str(reply)
