"""Well-known model identifiers, with each backend's name for the model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelIdentifier:
    """One model under the names different backends know it by."""

    hf_model_name: str | None = None
    ollama_name: str | None = None
    openai_name: str | None = None
    local_name: str | None = None

    def name_for(self, provider: str) -> str | None:
        """The name for a backend ("ollama", "openai", "litellm", "local"), if known."""
        if provider == "ollama":
            return self.ollama_name
        if provider == "local":
            return self.local_name
        return self.openai_name or self.hf_model_name or self.ollama_name

    def __str__(self) -> str:
        return self.ollama_name or self.hf_model_name or self.openai_name or "<model>"


IBM_GRANITE_4_1_3B = ModelIdentifier("ibm-granite/granite-4.1-3b", "granite4.1:3b")
IBM_GRANITE_4_1_8B = ModelIdentifier("ibm-granite/granite-4.1-8b", "granite4.1:8b")
IBM_GRANITE_4_HYBRID_MICRO = ModelIdentifier("ibm-granite/granite-4.0-h-micro", "granite4:micro-h")
IBM_GRANITE_4_HYBRID_SMALL = ModelIdentifier("ibm-granite/granite-4.0-h-small", "granite4:small-h")
IBM_GRANITE_3_3_8B = ModelIdentifier("ibm-granite/granite-3.3-8b-instruct", "granite3.3:8b")
IBM_GRANITE_3_3_VISION_2B = ModelIdentifier(
    "ibm-granite/granite-vision-3.3-2b", "ibm/granite3.3-vision:2b"
)
META_LLAMA_3_2_3B = ModelIdentifier("meta-llama/Llama-3.2-3B-Instruct", "llama3.2:3b")
MISTRALAI_MISTRAL_0_3_7B = ModelIdentifier("mistralai/Mistral-7B-Instruct-v0.3", "mistral:7b")
QWEN3_8B = ModelIdentifier("Qwen/Qwen3-8B", "qwen3:8b")
DEEPSEEK_R1_8B = ModelIdentifier("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "deepseek-r1:8b")
OPENAI_GPT_4O = ModelIdentifier(openai_name="gpt-4o")
OPENAI_GPT_4O_MINI = ModelIdentifier(openai_name="gpt-4o-mini")
SMOLLM2_135M_INSTRUCT = ModelIdentifier(
    "HuggingFaceTB/SmolLM2-135M-Instruct", "smollm2:135m", local_name="smollm2-135m"
)
