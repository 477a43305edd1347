from mellea import MelleaSession
from mellea.backends.ollama import OllamaModelBackend
from mellea.stdlib.context import SimpleContext

backend = OllamaModelBackend(
    "granite4.1:3b",
    model_options={"temperature": 0.2},
)
m = MelleaSession(backend, SimpleContext())
