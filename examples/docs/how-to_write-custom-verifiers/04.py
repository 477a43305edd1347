import json
from mellea.core import Context, ValidationResult

def validate_json(ctx: Context) -> ValidationResult:
    output = ctx.last_output()
    text = output.value if output and output.value else ""
    try:
        json.loads(text)
        return ValidationResult(True)
    except json.JSONDecodeError as exc:
        return ValidationResult(
            False,
            reason=f"Output is not valid JSON. Error at position {exc.pos}: {exc.msg}. "
                   "Respond with only valid JSON, no surrounding text.",
        )
