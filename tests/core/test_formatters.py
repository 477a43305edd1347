"""ChatFormatter, TemplateFormatter and the wire messages, on real template files."""

from __future__ import annotations

import base64
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mellea.backends import model_ids
from mellea.core import CBlock, Component, ImageBlock, ModelOutputThunk, TemplateRepresentation
from mellea.core.errors import InvalidOptionError
from mellea.core.formatter import Formatter
from mellea.core.generation import ModelToolCall
from mellea.core.message import Message, ToolMessage
from mellea.formatters import ChatFormatter, TemplateFormatter
from mellea.formatters.template_formatter import find_template, simplify_model_name
from mellea.formatters.wire import message_to_wire, to_chat_messages

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


class Table(Component[str]):
    def __init__(self, title: str, rows: list[str], order: list[str] | None = None) -> None:
        self.title, self.rows, self.order = title, rows, order

    def format_for_llm(self) -> TemplateRepresentation:
        return TemplateRepresentation(
            component=self, args={"title": self.title, "rows": self.rows},
            template_order=self.order or ["*"],
        )  # fmt: skip


class Quote(Component[str]):
    def __init__(self, inner: Component[Any] | CBlock) -> None:
        self.inner = inner

    def format_for_llm(self) -> TemplateRepresentation:
        return TemplateRepresentation(self, {"inner": self.inner}, template="> {{ inner }}")


class ToolResult(Component[str]):
    def format_for_llm(self) -> TemplateRepresentation:
        return TemplateRepresentation(
            self, {"out": "42"}, role="tool", tool_call_id="c9", tool_name="answer",
            images=[ImageBlock(PNG)],
        )  # fmt: skip


def test_chat_formatter_prints_blocks_components_and_representations() -> None:
    fmt = ChatFormatter()
    assert isinstance(fmt, Formatter)
    assert fmt.print(CBlock("plain")) == "plain"
    assert fmt.print(Message("user", "hi")) == "hi"
    # an inline template sees nested components as their text
    assert fmt.print(Quote(Quote(CBlock("deep")))) == "> > deep"
    # no template: the arguments, one per line
    assert fmt.print(Table("T", ["a", "b"])) == "title: T\nrows: ['a', 'b']"


def test_to_chat_messages_roles_and_carried_fields() -> None:
    reply = ModelOutputThunk("the answer", tool_calls={"add": ModelToolCall("add", None, {})})
    msgs = ChatFormatter().to_chat_messages(
        [Message("system", "be brief"), CBlock("question"), reply, ToolResult()]
    )
    assert [m.role for m in msgs] == ["system", "user", "assistant", "tool"]
    assert msgs[2].content == "the answer" and msgs[2].tool_calls is not None
    tool = msgs[3]
    assert (tool.tool_call_id, tool.tool_name, tool.content) == ("c9", "answer", "42")
    assert tool.images is not None and isinstance(tool.images[0], ImageBlock)


def test_wire_messages() -> None:
    wire = to_chat_messages(
        [Message("user", "q"), ModelOutputThunk("a")],
        ToolMessage("tool", "3", 3, "add", {"a": 1}, tool_call_id="call_1"),
        system_prompt="sys",
    )
    assert wire[0] == {"role": "system", "content": "sys"}
    assert wire[2] == {"role": "assistant", "content": "a"}
    assert wire[3] == {"role": "tool", "content": "3", "name": "add", "tool_call_id": "call_1"}
    img = ImageBlock(PNG)
    assert message_to_wire(Message("user", "see", images=[img]))["images"] == [img]


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    root = tmp_path / "templates" / "prompts"
    write(root, "default/Table.jinja2", "DEFAULT {{ title }}")
    write(root, "granite/Table.jinja2", "GRANITE {{ title }}")
    write(
        root, "granite/granite-3-2/instruct/Table.jinja2", "G32 {{ title }}: {{ rows|join(',') }}"
    )
    write(root, "default/summary.jinja2", "SUMMARY {{ title }}")
    return root


def test_template_lookup_prefers_the_deepest_model_directory(templates: Path) -> None:
    assert (
        simplify_model_name("ibm-granite/granite-3.2-8b-instruct")
        == "ibmgranitegranite328binstruct"
    )
    pick = find_template(templates, "Table.jinja2", "ibm-granite/granite-3.2-8b-instruct")
    assert pick is not None and pick.parts[-4:] == (
        "granite",
        "granite-3-2",
        "instruct",
        "Table.jinja2",
    )
    pick = find_template(templates, "Table.jinja2", "ibm-granite/granite-4.0-micro")
    assert pick is not None and pick.parent.name == "granite"
    pick = find_template(templates, "Table.jinja2", "llama3.2:1b")
    assert pick is not None and pick.parent.name == "default"
    assert find_template(templates, "Missing.jinja2", "llama") is None


def test_template_formatter_renders_files_by_model(templates: Path) -> None:
    table = Table("Sales", ["q1", "q2"])
    g32 = TemplateFormatter("ibm-granite/granite-3.2-8b-instruct", template_path=str(templates))
    assert g32.print(table) == "G32 Sales: q1,q2"
    other = TemplateFormatter("llama3.2", template_path=str(templates))
    assert other.print(table) == "DEFAULT Sales"
    # template_order: the first name found wins; "*" is the class name
    assert other.print(Table("S", [], order=["summary", "*"])) == "SUMMARY S"
    assert other.print(Table("S", [], order=["nothing", "*"])) == "DEFAULT S"
    # an inline template is used as is
    assert other.print(Quote(CBlock("x"))) == "> x"
    # a model_ids constant is matched by its names
    by_id = TemplateFormatter(model_ids.IBM_GRANITE_3_2_8B, template_path=str(templates))
    assert by_id.print(table).startswith(("G32", "GRANITE"))


def test_template_cache_and_fallback(templates: Path) -> None:
    cached = TemplateFormatter("llama", template_path=str(templates))
    fresh = TemplateFormatter("llama", template_path=str(templates), use_template_cache=False)
    table = Table("T", [])
    assert cached.print(table) == fresh.print(table) == "DEFAULT T"
    write(templates, "default/Table.jinja2", "CHANGED {{ title }}")
    assert cached.print(table) == "DEFAULT T" and fresh.print(table) == "CHANGED T"
    # no file at all: the arguments, as ChatFormatter renders them
    lone = TemplateFormatter("llama", template_path=str(templates / "nowhere"))
    assert lone.print(Table("T", [], order=["absent"])) == "title: T\nrows: []"


def test_template_files_render_in_the_sandbox(templates: Path) -> None:
    write(templates, "default/Table.jinja2", "{{ title.__class__.__mro__ }}")
    fmt = TemplateFormatter("m", template_path=str(templates))
    with pytest.raises(InvalidOptionError, match="sandbox"):
        fmt.print(Table("T", []))


def test_a_package_ships_templates_for_its_own_components(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "thirdparty_pkg"
    write(pkg, "__init__.py", "")
    write(pkg, "templates/prompts/default/Card.jinja2", "CARD {{ name }}")
    write(pkg, "components.py", textwrap.dedent('''
        from mellea.core import Component, TemplateRepresentation

        class Card(Component[str]):
            def format_for_llm(self):
                return TemplateRepresentation(self, {"name": "ace"}, template_order=["*"])
    '''))  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    from thirdparty_pkg.components import Card  # type: ignore[import-not-found]

    try:
        assert TemplateFormatter("any-model").print(Card()) == "CARD ace"
    finally:
        for name in [m for m in sys.modules if m.startswith("thirdparty_pkg")]:
            del sys.modules[name]


def test_a_backend_renders_with_the_formatter_it_was_given(templates: Path) -> None:
    from mellea.backends.dummy import DummyBackend
    from mellea.stdlib.context import ChatContext

    fmt = TemplateFormatter("llama", template_path=str(templates))
    backend = DummyBackend(["ok"])
    backend.formatter = fmt  # (the engines' constructors do not take formatter= yet)

    async def run() -> Any:
        mot, _ = await backend.generate_from_context(Table("Sales", []), ChatContext())
        await mot.avalue()
        return mot.generate_log

    import asyncio

    log = asyncio.run(run())
    assert log.prompt[-1] == {"role": "user", "content": "DEFAULT Sales"}
    from mellea.backends._chat import ChatBackend

    with pytest.raises(TypeError, match="ChatFormatter"):
        ChatBackend.__init__(backend, "m", "not a formatter")
