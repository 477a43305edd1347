# Requires: mellea
# Returns: str
from mellea import start_session
from mellea.stdlib.components import Message

m = start_session()
msg = Message("user", "Summarize: Mellea is a framework for structured LLM programming.")
result = m.act(msg, strategy=None)
print(str(result))
# Output will vary — LLM responses depend on model and temperature.
