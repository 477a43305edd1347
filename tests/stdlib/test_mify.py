"""`mify` / `MObject` and `m.query` / `m.transform` on the loopback server, with the docs'
examples (tutorial 05 and the MObjects concept page)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core.errors import ToolArgumentsError
from mellea.core.thunk import ModelOutputThunk
from mellea.stdlib.components import Message, MObject, ToolMessage
from mellea.stdlib.components.mify import MifiedProtocol, mify
from mellea.stdlib.components.mobject import MObjectProtocol, Query, Transform
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.functional import atransform, query
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply


def session(srv: LoopbackServer, ctx: Any = None) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url), ctx)


def last_body(srv: LoopbackServer) -> dict[str, Any]:
    return srv.stats().for_path("/api/chat")[-1].body  # type: ignore[no-any-return]


def prompt(srv: LoopbackServer) -> str:
    return str(last_body(srv)["messages"][-1]["content"])


def tool_names(srv: LoopbackServer) -> list[str]:
    return [t["function"]["name"] for t in last_body(srv).get("tools", [])]


@mify(
    fields_include={"name", "spend_ytd"},
    template="{{ name }} — spent £{{ spend_ytd }} this year",
    funcs_include={"to_summary", "rename_async"},
)
class Customer:
    def __init__(self, name: str, last_purchase: str, spend_ytd: float) -> None:
        self.name = name
        self.last_purchase = last_purchase
        self.spend_ytd = spend_ytd

    def to_summary(self, summary: str) -> Customer:
        """Return a new Customer with the name replaced by the given summary."""
        return Customer(summary, self.last_purchase, self.spend_ytd)

    async def rename_async(self, name: str) -> Customer:
        """Rename (async)."""
        await asyncio.sleep(0)
        return Customer(name, self.last_purchase, self.spend_ytd)

    def documented_but_not_included(self) -> None:
        """Not in funcs_include: never offered."""


# ----- what the model sees --------------------------------------------------------------


def test_fields_include_and_template_control_what_is_sent(loopback: LoopbackServer) -> None:
    record = Customer("Ada", "wireless headphones", 1240.5)
    assert isinstance(record, MifiedProtocol) and isinstance(record, MObjectProtocol)
    answer = session(loopback).query(record, "Is this a high-value customer?")
    assert isinstance(answer, ModelOutputThunk) and answer.is_computed()
    text = prompt(loopback)
    assert "Ada — spent £1240.5 this year" in text and "Is this a high-value customer?" in text
    assert "headphones" not in text  # not in fields_include
    assert "tools" not in last_body(loopback)  # a query offers no tools unless asked


def test_stringify_func_class_level_and_instance_level(loopback: LoopbackServer) -> None:
    @mify(stringify_func=lambda r: f"customer={r.name}")
    class Rec:
        def __init__(self, name: str) -> None:
            self.name = name

    class Plain:
        def __init__(self, name: str, value: float) -> None:
            self.name = name
            self.value = value

    m = session(loopback)
    m.query(Rec("Ada"), "Who?")
    assert "customer=Ada" in prompt(loopback)
    p = Plain("Acme", 5.0)
    assert mify(p, stringify_func=lambda: f"name: {p.name}") is p  # zero-arg, closes over p
    m.query(p, "Large?")
    assert "name: Acme" in prompt(loopback)
    q = Plain("Beta", 1.0)
    mify(q, stringify_func=lambda obj: f"obj={obj.name}")  # taking the object works too
    m.query(q, "Large?")
    assert "obj=Beta" in prompt(loopback)


def test_default_representation_shows_fields_not_a_bare_repr(loopback: LoopbackServer) -> None:
    @mify
    class Bare:
        table: str = "| a | b |"

        def __init__(self) -> None:
            self.rows = 2
            self._secret = "hidden"

    m = session(loopback)
    m.query(Bare(), "How many rows?")
    text = prompt(loopback)
    assert "table: | a | b |" in text and "rows: 2" in text and "hidden" not in text

    @mify(fields_exclude={"rows"})
    class Excluding(Bare):
        pass

    m.query(Excluding(), "?")
    assert "rows" not in prompt(loopback) and "table: | a | b |" in prompt(loopback)


def test_funcs_include_exclude_and_docstrings_decide_the_tools(loopback: LoopbackServer) -> None:
    class Doc:
        def summarize(self, words: int) -> str:
            """Summarize in `words` words."""
            return "summary"

        def internal_helper(self) -> str:
            return "no docstring: never offered"

        def hidden(self) -> str:
            """[no-index] hidden from the model."""
            return "x"

        def excluded(self) -> str:
            """Documented but excluded."""
            return "x"

        @property
        def size(self) -> int:
            raise AssertionError("properties are not evaluated")

    m = session(loopback)
    doc = mify(Doc(), funcs_exclude={"excluded"})
    m.query(doc, "?", tool_calls=True)
    assert tool_names(loopback) == ["summarize"]
    m.transform(Customer("Ada", "x", 1.0), "Rename")
    assert sorted(tool_names(loopback)) == ["rename_async", "to_summary"]
    m.query(mify(Doc(), funcs_include={"internal_helper"}), "?", tool_calls=True)
    assert tool_names(loopback) == ["internal_helper"]  # included explicitly, docstring or not


# ----- transform ---------------------------------------------------------------------------


def test_transform_answered_by_a_method_call_returns_its_result(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "to_summary", "arguments": {"summary": "VIP"}}]))
    m = session(loopback, ChatContext())
    record = Customer("Ada", "wireless headphones", 1240.5)
    transformed = m.transform(record, "Write a one-line CRM note for this customer.")
    assert isinstance(transformed, Customer) and transformed.name == "VIP"
    assert record.name == "Ada"
    tool_message = m.ctx.node_data
    assert isinstance(tool_message, ToolMessage) and tool_message._tool_output is transformed
    assert "Write a one-line CRM note" in prompt(loopback)


async def test_atransform_awaits_async_methods(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "rename_async", "arguments": {"name": "Bo"}}]))
    result = await session(loopback).atransform(Customer("Ada", "x", 1.0), "Rename to Bo")
    assert isinstance(result, Customer) and result.name == "Bo"


def test_transform_without_a_tool_call_returns_the_text(loopback: LoopbackServer) -> None:
    m = session(loopback)
    result = m.transform(Customer("Ada", "x", 1.0), "Shout the name")
    assert isinstance(result, ModelOutputThunk) and result.value.startswith("Echo: <object>")

    @mify(parsing_func=lambda text: text.upper())
    class Parsed:
        pass

    assert m.transform(Parsed(), "x").startswith("ECHO: ")


def test_transform_errors_are_raised_not_returned(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "to_summary", "arguments": {"wrong": 1}}]))
    with pytest.raises(ToolArgumentsError, match="summary: Field required"):
        session(loopback).transform(Customer("Ada", "x", 1.0), "x")


def test_transform_with_several_calls_prefers_the_objects_type(loopback: LoopbackServer) -> None:
    class Table:
        def __init__(self, rows: int) -> None:
            self.rows = rows

        def count(self) -> int:
            """Count rows."""
            return self.rows

        def transpose(self) -> Table:
            """Transpose the table."""
            return Table(-self.rows)

    loopback.enqueue(Reply(tool_calls=[{"name": "count"}, {"name": "transpose"}]))
    table = mify(Table(3))
    result = session(loopback).transform(table, "Transpose the table.")
    assert isinstance(result, Table) and result.rows == -3


# ----- MObject, plain objects, the functional API -------------------------------------------


class Ledger(MObject):
    def __init__(self, entries: list[int]) -> None:
        super().__init__()
        self.entries = entries

    def content_as_string(self) -> str:
        return "entries: " + ", ".join(map(str, self.entries))

    def add_entry(self, amount: int) -> Ledger:
        """Add an entry."""
        return Ledger([*self.entries, amount])


def test_mobject_subclass(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "add_entry", "arguments": {"amount": "5"}}]))
    m = session(loopback)
    ledger = Ledger([1, 2])
    assert isinstance(ledger.get_query_object("q"), Query)
    assert isinstance(ledger.get_transform_object("t"), Transform)
    result = m.transform(ledger, "Add five")
    assert isinstance(result, Ledger) and result.entries == [1, 2, 5]
    assert "entries: 1, 2" in prompt(loopback) and tool_names(loopback) == ["add_entry"]
    assert mify(ledger) is ledger  # already an MObject: unchanged


def test_plain_objects_are_wrapped_not_modified(loopback: LoopbackServer) -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

        def poke(self) -> str:
            """Poke it."""
            return "poked"

    thing = Thing()
    m = session(loopback)
    m.query(thing, "What is it?", tool_calls=True)
    assert "a thing" in prompt(loopback) and tool_names(loopback) == ["poke"]
    assert not hasattr(thing, "get_query_object")
    m.query("just a string", "Length?", tool_calls=True)
    assert "tools" not in last_body(loopback)  # str.upper & co. are not tools
    with pytest.raises(TypeError, match="use act"):
        m.query(Message("user", "x"), "?")


def test_mify_refuses_slotted_objects() -> None:
    class Slotted:
        __slots__ = ("x",)

    with pytest.raises(TypeError, match="__slots__"):
        mify(Slotted())


async def test_aquery_returns_at_once_and_functional_forms(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.2)
    m = session(loopback)
    thunk = await m.aquery(Customer("Ada", "x", 1.0), "?")
    assert not thunk.is_computed()
    assert (await thunk.avalue()).startswith("Echo: ")
    backend = m.backend
    mot, ctx = await asyncio.to_thread(query, Ledger([1]), "Sum?", SimpleContext(), backend)
    assert mot.is_computed() and len(ctx) == 2
    result, ctx2 = await atransform(Ledger([1]), "x", SimpleContext(), backend)
    assert isinstance(result, ModelOutputThunk) and len(ctx2) == 2


def test_mify_name_is_the_function_after_importing_the_module() -> None:
    import sys

    from mellea.stdlib.components import mify as mify_from_package

    assert mify_from_package is sys.modules["mellea.stdlib.components.mify"].mify


# ----- the docs' examples ---------------------------------------------------------------------


def run_doc(code: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    exec(compile(code, "<docs example>", "exec", dont_inherit=True), {"__name__": "__main__"})


DOC_SALES_DATABASE = '''
import mellea
from mellea.stdlib.components import mify
from mellea.stdlib.components.mify import MifiedProtocol

@mify(fields_include={"table"}, template="{{ table }}")
class SalesDatabase:
    table: str = """| Store      | Sales  |
                    | ---------- | ------ |
                    | Northeast  | $250   |
                    | Southeast  | $80    |
                    | Midwest    | $420   |"""

    def internal_method(self):
        # not exposed to the LLM
        ...

m = mellea.start_session()
db = SalesDatabase()
assert isinstance(db, MifiedProtocol)

answer = m.query(db, "What were sales for the Northeast branch this month?")
print(str(answer))
'''


def test_doc_sales_database(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run_doc(DOC_SALES_DATABASE, monkeypatch, loopback)
    out = capsys.readouterr().out
    assert out.startswith("Echo: <object>") and "| Northeast  | $250   |" in out
    assert "Northeast branch this month?" in out


DOC_DOCUMENT_LOADER = '''
from mellea.stdlib.components import mify

@mify(funcs_include={"from_markdown"})
class DocumentLoader:
    def __init__(self) -> None:
        self.content = ""

    @classmethod
    def from_markdown(cls, text: str) -> "DocumentLoader":
        """Load a document from a Markdown string."""
        doc = DocumentLoader()
        doc.content = text
        return doc

    def internal_helper(self) -> str:
        # no docstring, and not in funcs_include — never exposed
        return "..."

import mellea
m = mellea.start_session()
loaded = m.transform(DocumentLoader(), "Load '# Title' as the document.")
print(type(loaded).__name__, loaded.content)
'''


def test_doc_methods_as_tools_classmethod(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "from_markdown", "arguments": {"text": "# T"}}]))
    run_doc(DOC_DOCUMENT_LOADER, monkeypatch, loopback)
    assert capsys.readouterr().out == "DocumentLoader # T\n"
    assert tool_names(loopback) == ["from_markdown"]


DOC_TUTORIAL_05 = '''
import mellea
from mellea.stdlib.components.mify import mify

@mify(stringify_func=lambda r: (
    f"Customer: {r.name}\\n"
    f"Last purchase: {r.last_purchase}\\n"
    f"Year-to-date spend: £{r.spend_ytd:.2f}"
))
class CustomerRecord:
    def __init__(self, name: str, last_purchase: str, spend_ytd: float):
        self.name = name
        self.last_purchase = last_purchase
        self.spend_ytd = spend_ytd

record = CustomerRecord("Ada", "wireless headphones", 1240.50)
m = mellea.start_session()

result = m.query(record, "Is this a high-value customer?")
print(str(result))

@mify(
    stringify_func=lambda r: f"{r.name}: {r.last_purchase}, £{r.spend_ytd:.2f} YTD",
    funcs_include={"to_summary"},
)
class CustomerRecord:
    def __init__(self, name: str, last_purchase: str, spend_ytd: float):
        self.name = name
        self.last_purchase = last_purchase
        self.spend_ytd = spend_ytd

    def to_summary(self, summary: str) -> "CustomerRecord":
        """Return a new CustomerRecord with the name replaced by the given summary."""
        return CustomerRecord(summary, self.last_purchase, self.spend_ytd)

record = CustomerRecord("Ada", "wireless headphones", 1240.50)
m = mellea.start_session()

transformed = m.transform(record, "Write a one-line CRM note for this customer.")
print(str(transformed.name))

class ThirdPartyRecord:
    def __init__(self, name: str, value: float):
        self.name = name
        self.value = value

record = ThirdPartyRecord("Acme Corp", 58000.0)
mify(record, stringify_func=lambda: f"name: {record.name}\\nvalue: {record.value}")

m = mellea.start_session()
result = m.query(record, "Is this a large or small account?")
print(str(result))
'''


def test_doc_tutorial_05(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(
        Reply(
            match="CRM note",
            tool_calls=[
                {
                    "name": "to_summary",
                    "arguments": {"summary": "Ordered wireless headphones for home use."},
                }
            ],
        )
    )
    run_doc(DOC_TUTORIAL_05, monkeypatch, loopback)
    out = capsys.readouterr().out
    assert "Customer: Ada\nLast purchase: wireless headphones\nYear-to-date spend: £1240.50" in out
    assert "\nOrdered wireless headphones for home use.\n" in out
    assert "name: Acme Corp\nvalue: 58000.0" in out
