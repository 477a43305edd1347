# Requires: mellea
# Returns: MelleaSession
from mellea import MelleaSession
from mellea.backends import model_ids
from mellea.backends.openai import OpenAIBackend

m = MelleaSession(
    OpenAIBackend(
        model_id=model_ids.NVIDIA_NEMOTRON_3_NANO_4B,
        api_key="your-nvidia-api-key",
        base_url="https://integrate.api.nvidia.com/v1",
    )
)
