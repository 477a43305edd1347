from mellea import MelleaSession, start_session
from mellea.backends.ollama import OllamaModelBackend
from mellea.stdlib.context import ChatContext, SimpleContext

# Default: SimpleContext
m = start_session()

# Explicit ChatContext for multi-turn work
m = MelleaSession(OllamaModelBackend(), ctx=ChatContext())
