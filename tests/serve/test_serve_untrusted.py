"""Untrusted text through `m serve`: a client's message carrying a template escape is
refused (400, nothing sent to the model) when a program renders it as a template, and
reaches the model as inert text when a program passes it as a variable."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import openai
import pytest

from mellea.serve import ChatMessage
from tests.servers import LoopbackServer

from .conftest import loopback_session
from .test_openai_sdk import client
from .test_template_sandbox import ESCAPES

PATH = "/v1/chat/completions"


@pytest.mark.parametrize("escape", ESCAPES[:6] + ESCAPES[-3:])
def test_escape_in_a_rendered_message_is_refused(
    escape: str, loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        # careless: the user's text becomes the template itself
        return session.instruct(
            input[-1].get_text_content(), user_variables={"name": "Olivia"}, strategy=None
        )

    url = serve_program(serve)
    with pytest.raises(openai.BadRequestError) as info:
        client(url).chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"Hi {escape}"}]
        )
    assert "sandbox" in info.value.message
    assert os.getcwd() not in info.value.message
    assert loopback.stats().for_path(PATH) == []


def test_escape_in_requirements_field_is_refused(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        return session.instruct(
            "Greet {{ name }}.", requirements=requirements, user_variables={"name": "Olivia"}
        )

    url = serve_program(serve)
    with pytest.raises(openai.BadRequestError, match="sandbox"):
        client(url).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}],
            extra_body={"requirements": [ESCAPES[0]]},
        )  # fmt: skip
    assert loopback.stats().for_path(PATH) == []


def test_escape_as_a_variable_is_inert(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        return session.instruct(
            "Answer the user: {{ message }}",
            user_variables={"message": input[-1].get_text_content()}, strategy=None,
        )  # fmt: skip

    url = serve_program(serve)
    answer = client(url).chat.completions.create(
        model="m", messages=[{"role": "user", "content": ESCAPES[0]}]
    )
    sent = loopback.stats().for_path(PATH)[0].body["messages"][-1]["content"]
    assert sent == f"Answer the user: {ESCAPES[0]}"
    assert os.getcwd() not in (answer.choices[0].message.content or "")
