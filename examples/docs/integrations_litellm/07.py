# Requires: mellea[litellm]
# Returns: MelleaSession
from mellea import MelleaSession
from mellea.backends.litellm import LiteLLMBackend

m = MelleaSession(
    LiteLLMBackend(
        model_id="litellm_proxy/my-model",
        base_url="http://localhost:4000",
        model_options={"api_key": "sk-..."},
    ),
)
