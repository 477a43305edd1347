# Requires: mellea
# Returns: MelleaSession
from mellea import MelleaSession
from mellea.backends import model_ids
from mellea.backends.openai import OpenAIBackend

m = MelleaSession(
    OpenAIBackend(
        model_id=model_ids.NVIDIA_NEMOTRON_3_NANO_30B_A3B.hf_model_name,
        api_key="EMPTY",
        base_url="http://localhost:8000/v1",
    )
)
