"""The requirements pages' programs, run unchanged against the loopback server."""

from __future__ import annotations

import pytest

from tests.servers import LoopbackServer, Reply


def run_doc(code: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    exec(compile(code, "<docs example>", "exec", dont_inherit=True), {"__name__": "__main__"})


def prompts(srv: LoopbackServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in srv.stats().for_path("/api/chat")]


WORD_LIMIT = """
from mellea import start_session
from mellea.core import Requirement
from mellea.stdlib.requirements import simple_validate

word_limit = Requirement(
    "Fewer than 100 words.",
    validation_fn=simple_validate(lambda output: len(output.split()) < 100),
)

m = start_session()
email = m.instruct(
    "Write an email to {{name}}.",
    requirements=[word_limit],
    user_variables={"name": "Olivia"},
)
print(email)
"""


def test_custom_validation_function(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="word " * 150), Reply(text="Dear Olivia, hello."))
    run_doc(WORD_LIMIT, monkeypatch, loopback)
    assert capsys.readouterr().out == "Dear Olivia, hello.\n"
    assert "Write an email to Olivia." in prompts(loopback)[0]


INSPECTING = """
from mellea import start_session
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy

m = start_session()
result = m.instruct(
    "Write a short note to {{name}}.",
    requirements=[
        req(
            "Use only lower-case letters.",
            validation_fn=simple_validate(
                lambda x: (x.lower() == x, "Output contains upper-case characters.")
            ),
        ),
    ],
    strategy=RejectionSamplingStrategy(loop_budget=3),
    user_variables={"name": "Olivia"},
    return_sampling_results=True,
)

if result.success:
    print(str(result.result))
else:
    # Inspect why each attempt failed
    for attempt_idx, attempt_validations in enumerate(result.sample_validations):
        print(f"Attempt {attempt_idx + 1}:")
        for requirement, val_result in attempt_validations:
            status = "PASS" if val_result else "FAIL"
            print(f"  [{status}] {requirement.description}: {val_result.reason}")
"""


def test_inspecting_validation_results(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(*(Reply(text="Hi Olivia") for _ in range(3)))
    run_doc(INSPECTING, monkeypatch, loopback)
    line = "  [FAIL] Use only lower-case letters.: Output contains upper-case characters.\n"
    assert capsys.readouterr().out == "".join(f"Attempt {i}:\n{line}" for i in (1, 2, 3))


COMPOSING = """
import re
from mellea import start_session
from mellea.core import Context, Requirement, ValidationResult
from mellea.stdlib.requirements import req, check, simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy

def validate_email_format(ctx: Context) -> ValidationResult:
    \"\"\"Check that the output is a valid email address.\"\"\"
    output = ctx.last_output()
    text = output.value.strip() if output and output.value else ""

    email_pattern = r"^[a-zA-Z0-9._%+\\-]+@[a-zA-Z0-9.\\-]+\\.[a-zA-Z]{2,}$"
    if re.match(email_pattern, text):
        return ValidationResult(True)
    return ValidationResult(
        False,
        reason=f"'{text}' is not a valid email address. Respond with only a single email address.",
    )

m = start_session()
result = m.instruct(
    "Extract the email address from: {{text}}",
    requirements=[
        req(
            "Must be a valid email address.",
            validation_fn=validate_email_format,        # full validator
        ),
        req(
            "Must not include any surrounding text or explanation.",
            validation_fn=simple_validate(              # simple_validate shortcut
                lambda x: "@" in x and " " not in x.strip()
            ),
        ),
        check("Do not include quotes around the email."),  # LLM-as-a-judge, check-only
    ],
    strategy=RejectionSamplingStrategy(loop_budget=3),
    user_variables={"text": "Reach out to support@example.com for help."},
)
print(str(result))
"""


def test_composing_verifiers(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="The address is support@example.com"))
    loopback.enqueue(Reply(text="No, it has no quotes.", match="Decide whether"))  # the judge
    loopback.enqueue(Reply(text="support@example.com"))
    loopback.enqueue(Reply(text="Yes.", match="Decide whether"))
    run_doc(COMPOSING, monkeypatch, loopback)
    assert capsys.readouterr().out == "support@example.com\n"
    first, *_ = prompts(loopback)
    assert "Must be a valid email address." in first and "Do not include quotes" not in first
