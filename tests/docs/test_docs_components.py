"""Docs pages on components and the layers under the session: "Building Custom Components",
"Mellea Core Internals", "act() and aact()", "Template Formatting", and the glossary's
snippets — each example unchanged, on the loopback server."""

from __future__ import annotations

import json

import pytest

from mellea.core import CBlock, ModelOutputThunk
from mellea.stdlib.components import Document
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.session import MelleaSession
from tests.docs._harness import chat_bodies, last_user_text
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply

FEEDBACK = {
    "clarity": {"score": 2, "reason": "Confusing."},
    "tone": {"score": 4, "reason": "Calm."},
}


# ----- Building Custom Components ------------------------------------------------------------


def test_feedback_form_is_defined_and_acted_functionally(
    run: Runner, loopback: LoopbackServer
) -> None:
    run("advanced_custom-components/01")
    loopback.enqueue(Reply(text="```json\n" + json.dumps(FEEDBACK) + "\n```"))
    ran = run("advanced_custom-components/03", after=["advanced_custom-components/02"])
    assert ran.out == f"{FEEDBACK}\n"  # the fenced JSON was parsed by the component
    prompt = last_user_text(chat_bodies(loopback)[-1])
    assert prompt.startswith("Rate the following content on these dimensions: clarity, tone")
    assert prompt.endswith("Content:\nThe onboarding flow was confusing and took too long.")


def test_feedback_form_through_a_session(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text=json.dumps(FEEDBACK), times=2))
    ran = run(
        "advanced_custom-components/04",
        after=["advanced_custom-components/02", "advanced_custom-components/03"],
    )
    assert ran.ns["result"] == FEEDBACK
    assert isinstance(ran.ns["m"], MelleaSession)
    assert len(chat_bodies(loopback)) == 2


def test_template_components_render_through_their_inline_template(
    run: Runner, loopback: LoopbackServer
) -> None:
    run("advanced_custom-components/05")  # a template-file component: defined, not acted here
    ran = run("advanced_custom-components/07", after=["advanced_custom-components/06"])
    assert ran.out == "Echo: Summarise in 30 words or fewer:\n\nLong article text here...\n"
    assert last_user_text(chat_bodies(loopback)[-1]).startswith("Summarise in 30 words")
    ran = run("advanced_custom-components/08", after=["advanced_custom-components/06"])
    assert ran.out.startswith("Echo: Summarise in 30 words or fewer:")


def test_the_components_unit_tests_pass(run: Runner) -> None:
    ran = run("advanced_custom-components/09", after=["advanced_custom-components/02"])
    suite = ran.ns["TestFeedbackForm"]()
    for name in [n for n in dir(suite) if n.startswith("test_")]:
        getattr(suite, name)()  # each raises if its assertion fails


# ----- Mellea Core Internals -----------------------------------------------------------------


def test_core_internals_layers(run: Runner, loopback: LoopbackServer) -> None:
    assert run("advanced_mellea-core-internals/01").ns["block"].value == "What is 1+1?"
    for name in (
        "advanced_mellea-core-internals/03",  # the session
        "advanced_mellea-core-internals/04",  # the functional API
        "advanced_mellea-core-internals/05",  # act() on a component
        "advanced_mellea-core-internals/06",  # aact()
    ):
        assert run(name).out == "Echo: What is 1+1?\n", name
    assert run("advanced_mellea-core-internals/07").out == (
        "Computed: False\nEcho: What is 1+1?\nComputed: True\n"
    )
    assert len(chat_bodies(loopback)) == 5


def test_core_internals_lazy_composition(run: Runner, loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.2)
    ran = run("advanced_mellea-core-internals/08")
    expected = {"instruction": "What is x+y?", "x": "Echo: What is 1+1?", "y": "Echo: What is 2+2?"}
    assert ran.out == f"x computed: False\ny computed: False\nEcho: {json.dumps(expected)}\n"
    assert json.loads(last_user_text(chat_bodies(loopback)[-1])) == expected


def test_cached_blocks_and_template_representation_snippets(run: Runner) -> None:
    block = run("advanced_prefix-caching-and-kv-blocks/03").ns["system_doc"]
    assert isinstance(block, CBlock) and block.cache is True
    assert callable(run("advanced_template-formatting/02").ns["format_for_llm"])


# ----- act() and aact() ----------------------------------------------------------------------


def test_act_at_three_levels(run: Runner, loopback: LoopbackServer) -> None:
    ran = run("how-to_act-and-aact/01")
    result, new_ctx = ran.ns["result"], ran.ns["new_ctx"]
    assert result.value == "Echo: Write a haiku about the ocean."
    assert isinstance(new_ctx, SimpleContext) and len(new_ctx) == 2
    assert len(chat_bodies(loopback)) == 3


def test_act_an_instruction_with_requirements(run: Runner, loopback: LoopbackServer) -> None:
    ran = run("how-to_act-and-aact/02")
    assert ran.out.startswith("Echo: List three facts about Mars.\n\nRequirements:\n")
    assert "- Each fact must be on its own line." in ran.out  # shown to the model
    assert len(chat_bodies(loopback)) == 1  # act() without a strategy validates nothing


def test_act_messages_and_structured_output(run: Runner, loopback: LoopbackServer) -> None:
    assert run("how-to_act-and-aact/03").out == "Echo: What is the capital of France?\n"
    assert run("how-to_act-and-aact/04").out.startswith("Echo: Summarize: Mellea")
    saturn = '{"name": "Saturn", "diameter_km": 120536.0, "has_rings": true}'
    loopback.enqueue(Reply(text=saturn))
    assert run("how-to_act-and-aact/06").out == f"{saturn}\nSaturn True\n"
    assert chat_bodies(loopback)[-1]["format"]["title"] == "Planet"


def test_functional_act_and_aact(run: Runner) -> None:
    ran = run("how-to_act-and-aact/07")
    assert ran.out == "Echo: Explain gravity in one sentence.\n"
    assert isinstance(ran.ns["new_ctx"], SimpleContext)
    assert run("how-to_act-and-aact/08").out == "Echo: Write a limerick about debugging.\n"


# ----- Glossary snippets -----------------------------------------------------------------------


def test_glossary_snippets(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="Python"))
    assert run("reference_glossary/01").ns["lang"] == "Python"
    assert isinstance(run("reference_glossary/02").ns["ctx"], ChatContext)
    doc = run("reference_glossary/05").ns["doc"]
    assert isinstance(doc, Document) and (doc.title, doc.doc_id) == ("My doc", "ref-1")
    assert isinstance(run("reference_glossary/17").ns["m"], MelleaSession)
    assert run("reference_glossary/18").ns["ModelOption"].TEMPERATURE
    assert isinstance(run("reference_glossary/25").ns["ctx"], SimpleContext)
    verifier = run("reference_glossary/28").ns["my_verifier"]
    assert verifier("short").as_bool() and verifier("word " * 60).reason == "Too long"


@pytest.mark.parametrize("value", ["x", ""])
def test_thunks_in_tests_take_a_value_keyword(value: str) -> None:
    # The custom-components page relies on ModelOutputThunk(value=...) being computed.
    assert ModelOutputThunk(value=value).is_computed()
