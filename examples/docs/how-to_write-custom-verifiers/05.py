from pydantic import BaseModel, ValidationError
from mellea.core import Context, ValidationResult

class PersonInfo(BaseModel):
    name: str
    age: int
    email: str

def validate_person_schema(ctx: Context) -> ValidationResult:
    output = ctx.last_output()
    text = output.value if output and output.value else ""
    try:
        PersonInfo.model_validate_json(text)
        return ValidationResult(True)
    except ValidationError as exc:
        errors = "; ".join(f"{e['loc']}: {e['msg']}" for e in exc.errors())
        return ValidationResult(
            False,
            reason=f"JSON does not match the required schema. Errors: {errors}. "
                   "Respond with JSON matching {name: str, age: int, email: str}.",
        )
