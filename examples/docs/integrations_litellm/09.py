# Requires: mellea[litellm]
# Returns: MelleaSession
from mellea import MelleaSession
from mellea.backends.litellm import LiteLLMBackend

m = MelleaSession(
    LiteLLMBackend(model_id="watsonx/ibm/granite-3-3-8b-instruct"),
)
