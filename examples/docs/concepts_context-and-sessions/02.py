from mellea import start_session
from mellea.stdlib.context import ChatContext

m = start_session(
    backend_name="ollama",
    ctx=ChatContext(),
    model_options={"temperature": 0.2},
)
