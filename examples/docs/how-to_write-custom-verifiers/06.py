import re
from mellea.core import Context, ValidationResult

def validate_iso_date(ctx: Context) -> ValidationResult:
    output = ctx.last_output()
    text = output.value.strip() if output and output.value else ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return ValidationResult(True)
    return ValidationResult(
        False,
        reason=f"'{text}' is not in ISO 8601 date format (YYYY-MM-DD). "
               "Respond with only the date in YYYY-MM-DD format.",
    )
