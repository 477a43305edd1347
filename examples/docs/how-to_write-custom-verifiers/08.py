from mellea.core import Context, ValidationResult

def validate_length_score(ctx: Context) -> ValidationResult:
    """Pass if under 100 words; score reflects how far under the limit."""
    output = ctx.last_output()
    text = output.value if output and output.value else ""
    word_count = len(text.split())
    if word_count <= 100:
        score = 1.0 - (word_count / 100)  # 1.0 = empty, 0.0 = exactly at limit
        return ValidationResult(True, score=score)
    return ValidationResult(
        False,
        score=0.0,
        reason=f"Output is {word_count} words; must be 100 or fewer.",
    )
