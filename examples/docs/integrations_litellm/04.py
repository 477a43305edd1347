# Requires: mellea[litellm]
# Returns: MelleaSession
from mellea import MelleaSession
from mellea.backends.litellm import LiteLLMBackend

m = MelleaSession(
    LiteLLMBackend(model_id="azure/my-gpt-4o-deployment"),
)
