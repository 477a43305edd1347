# Requires: mellea[litellm]
# Returns: MelleaSession
from mellea import MelleaSession
from mellea.backends import ModelOption
from mellea.backends.litellm import LiteLLMBackend

m = MelleaSession(
    LiteLLMBackend(
        model_id="anthropic/claude-sonnet-4-20250514",
        model_options={ModelOption.TEMPERATURE: 0.2, ModelOption.MAX_NEW_TOKENS: 512},
    ),
)
