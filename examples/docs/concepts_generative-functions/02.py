# Requires: mellea, pydantic
# Returns: FeedbackSummary
from typing import Literal
from pydantic import BaseModel
from mellea import generative, start_session

class FeedbackSummary(BaseModel):
    summary: str
    sentiment: Literal["positive", "negative", "mixed"]
    key_issue: str

@generative
def analyze_feedback(text: str) -> FeedbackSummary:
    """Analyze customer feedback and extract a summary, sentiment, and the main issue raised."""
    ...

m = start_session()
result = analyze_feedback(m, text="Onboarding took too long but support was excellent.")
print(result.sentiment)
# Output will vary — LLM responses depend on model and temperature.
