"""Well-known models under the name each serving platform knows them by.

`ModelIdentifier` bundles one model's names (Hugging Face, Ollama, watsonx, MLX, an
OpenAI-compatible endpoint, Bedrock, Bedrock through LiteLLM) and its rated context
length. Pass a constant as `model_id=` to any backend: each picks the name it needs
(`name_for`), and says clearly when the model has none for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelIdentifier:
    """One model under the names different platforms serve it by.

    `context_length` is the model's rated maximum context in tokens (not what a server
    allocates: Ollama, for one, defaults to a much smaller window).
    """

    hf_model_name: str | None = None
    ollama_name: str | None = None
    watsonx_name: str | None = None
    mlx_name: str | None = None
    openai_name: str | None = None
    bedrock_name: str | None = None
    bedrock_litellm_name: str | None = None
    hf_tokenizer_name: str | None = None
    context_length: int | None = None
    local_name: str | None = None
    """The embedded engine's name for the model (only for models it ships)."""

    def name_for(self, provider: str) -> str | None:
        """The name a backend sends ("ollama", "openai", "litellm", "local"), if known.

        OpenAI-compatible servers and LiteLLM get the `openai_name`, else the Hugging Face
        name (what vLLM and SGLang serve), else the Ollama name (Ollama's `/v1`).
        """
        if provider == "ollama":
            return self.ollama_name
        if provider == "local":
            return self.local_name
        return self.openai_name or self.hf_model_name or self.ollama_name

    def __str__(self) -> str:
        names = (self.ollama_name, self.hf_model_name, self.openai_name, self.bedrock_name)
        return next((n for n in names if n), "<model>")


# ----- IBM Granite ------------------------------------------------------------
IBM_GRANITE_4_HYBRID_MICRO = ModelIdentifier(
    "ibm-granite/granite-4.0-h-micro", "granite4:micro-h", context_length=131072
)
IBM_GRANITE_4_HYBRID_TINY = ModelIdentifier(
    "ibm-granite/granite-4.0-h-tiny", "granite4:tiny-h", context_length=131072
)
IBM_GRANITE_4_HYBRID_SMALL = ModelIdentifier(
    "ibm-granite/granite-4.0-h-small",
    "granite4:small-h",
    watsonx_name="ibm/granite-4-h-small",
    context_length=131072,
)
IBM_GRANITE_4_HYBRID_1B = ModelIdentifier(
    "ibm-granite/granite-4.0-h-1b", "granite4:1b-h", context_length=131072
)
IBM_GRANITE_4_HYBRID_350m = ModelIdentifier(
    "ibm-granite/granite-4.0-h-350m", "granite4:350m-h", context_length=32768
)
IBM_GRANITE_4_1_3B = ModelIdentifier(
    "ibm-granite/granite-4.1-3b", "granite4.1:3b", context_length=131072
)
IBM_GRANITE_4_1_8B = ModelIdentifier(
    "ibm-granite/granite-4.1-8b", "granite4.1:8b", context_length=131072
)
IBM_GRANITE_4_1_30B = ModelIdentifier(
    "ibm-granite/granite-4.1-30b", "granite4.1:30b", context_length=131072
)
IBM_GRANITE_4_2_3B = ModelIdentifier(
    "ibm-granite/granite-4.2-3b", "granite4.2:3b", context_length=131072
)
IBM_GRANITE_4_2_8B = ModelIdentifier(
    "ibm-granite/granite-4.2-8b", "granite4.2:8b", context_length=131072
)
IBM_GRANITE_4_2_30B = ModelIdentifier(
    "ibm-granite/granite-4.2-30b", "granite4.2:30b", context_length=131072
)
IBM_GRANITE_GUARDIAN_4_1_8B = ModelIdentifier(
    "ibm-granite/granite-guardian-4.1-8b", context_length=131072
)
IBM_GRANITE_3_2_8B = ModelIdentifier(
    "ibm-granite/granite-3.2-8b-instruct",
    "granite3.2:8b",
    watsonx_name="ibm/granite-3-2b-instruct",
    context_length=131072,
)
IBM_GRANITE_3_3_8B = ModelIdentifier(
    "ibm-granite/granite-3.3-8b-instruct",
    "granite3.3:8b",
    watsonx_name="ibm/granite-3-3-8b-instruct",
    context_length=131072,
)
IBM_GRANITE_4_MICRO_3B = ModelIdentifier(
    "ibm-granite/granite-4.0-micro",
    "granite4:micro",
    watsonx_name="ibm/granite-4-h-small",
    context_length=131072,
)
IBM_GRANITE_3_3_VISION_2B = ModelIdentifier(
    "ibm-granite/granite-vision-3.3-2b", "ibm/granite3.3-vision:2b", context_length=131072
)
IBM_GRANITE_VISION_4_1_4B = ModelIdentifier(
    "ibm-granite/granite-vision-4.1-4b",
    "hf.co/ibm-granite/granite-vision-4.1-4b-GGUF:Q4_K_M",
    context_length=131072,
)
IBM_GRANITE_GUARDIAN_3_0_2B = ModelIdentifier(
    "ibm-granite/granite-guardian-3.0-2b", "granite3-guardian:2b", context_length=4096
)
IBM_GRANITE_4_TINY_PREVIEW_7B = ModelIdentifier(
    "ibm-granite/granite-4.0-tiny-preview", context_length=131072
)
IBM_GRANITE_4_TINY_PREVIEW_BASE_7B = ModelIdentifier(
    "ibm-granite/granite-4.0-tiny-base-preview", context_length=131072
)
IBM_GRANITE_SWITCH_4_1_3B_PREVIEW = ModelIdentifier(
    "ibm-granite/granite-switch-4.1-3b-preview", context_length=131072
)
IBM_GRANITE_SWITCH_4_1_8B_PREVIEW = ModelIdentifier(
    "ibm-granite/granite-switch-4.1-8b-preview", context_length=131072
)
IBM_GRANITE_SWITCH_4_1_30B_PREVIEW = ModelIdentifier(
    "ibm-granite/granite-switch-4.1-30b-preview", context_length=131072
)

# ----- Meta Llama -------------------------------------------------------------
META_LLAMA_4_SCOUT_17B_16E_INSTRUCT = ModelIdentifier(
    "unsloth/Llama-4-Scout-17B-16E-Instruct",
    "llama4:scout",
    mlx_name="mlx-community/Llama-4-Scout-17B-16E-Instruct-4bit",
    hf_tokenizer_name="unsloth/Llama-4-Scout-17B-16E-Instruct",
    context_length=10485760,
)
META_LLAMA_4_MAVERICK_17B_128E_INSTRUCT = ModelIdentifier(
    "unsloth/Llama-4-Maverick-17B-128E-Instruct",
    "llama4:maverick",
    mlx_name="mlx-community/Llama-4-Maverick-17B-128E-Instruct-4bit",
    hf_tokenizer_name="unsloth/Llama-4-Maverick-17B-128E-Instruct",
    context_length=1048576,
)
META_LLAMA_3_3_70B = ModelIdentifier(
    "unsloth/Llama-3.3-70B-Instruct",
    "llama3.3:70b",
    watsonx_name="meta-llama/llama-3-3-70b-instruct",
    mlx_name="mlx-community/Llama-3.3-70B-Instruct-4bit",
    hf_tokenizer_name="unsloth/Llama-3.3-70B-Instruct",
    context_length=131072,
)
META_LLAMA_3_2_3B = ModelIdentifier(
    "unsloth/Llama-3.2-3B-Instruct",
    "llama3.2:3b",
    watsonx_name="meta-llama/llama-3-2-3b-instruct",
    context_length=131072,
)
META_LLAMA_GUARD3_1B = ModelIdentifier(
    "meta-llama/Llama-Guard-3-1B", "llama-guard3:1b", context_length=131072
)
META_LLAMA_3_2_1B = ModelIdentifier("unsloth/Llama-3.2-1B", "llama3.2:1b", context_length=131072)

# ----- Mistral AI -------------------------------------------------------------
MISTRALAI_MISTRAL_0_3_7B = ModelIdentifier(
    "mistralai/Mistral-7B-Instruct-v0.3", "mistral:7b", context_length=32768
)
MISTRALAI_MISTRAL_SMALL_24B = ModelIdentifier(
    "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
    "mistral-small:latest",
    watsonx_name="mistralai/mistral-small-3-1-24b-instruct-2503",
    context_length=131072,
)
MISTRALAI_MISTRAL_LARGE_123B = ModelIdentifier(
    "mistralai/Mistral-Large-Instruct-2411",
    "mistral-large:latest",
    watsonx_name="mistralai/mistral-large",
    context_length=131072,
)
MISTRALAI_DEVSTRAL_2_123B = ModelIdentifier(
    bedrock_name="mistral.devstral-2-123b",
    bedrock_litellm_name="bedrock/converse/mistral.devstral-2-123b",
)

# ----- Qwen -------------------------------------------------------------------
QWEN3_0_6B = ModelIdentifier("Qwen/Qwen3-0.6B", "qwen3:0.6b", context_length=32768)
QWEN3_1_7B = ModelIdentifier("Qwen/Qwen3-1.7B", "qwen3:1.7b", context_length=32768)
QWEN3_8B = ModelIdentifier("Qwen/Qwen3-8B", "qwen3:8b", context_length=40960)
QWEN3_14B = ModelIdentifier("Qwen/Qwen3-14B", "qwen3:14b", context_length=40960)

# ----- NVIDIA -----------------------------------------------------------------
NVIDIA_NEMOTRON_3_NANO_4B = ModelIdentifier(
    "nvidia/NVIDIA-Nemotron-3-Nano-4B-BF16",
    "nemotron-3-nano:4b",
    mlx_name="mlx-community/NVIDIA-Nemotron-3-Nano-4B-4bit",
    context_length=262144,
)
NVIDIA_NEMOTRON_3_NANO_30B_A3B = ModelIdentifier(
    "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    "nemotron-3-nano:30b",
    mlx_name="mlx-community/NVIDIA-Nemotron-3-Nano-30B-A3B-4bit",
    openai_name="nvidia/nemotron-3-nano-30b-a3b",
    bedrock_name="nvidia.nemotron-nano-3-30b",
    bedrock_litellm_name="bedrock/converse/nvidia.nemotron-nano-3-30b",
    context_length=262144,
)
NVIDIA_NEMOTRON_3_SUPER_120B_A12B = ModelIdentifier(
    "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16",
    "nemotron-3-super:120b",
    mlx_name="mlx-community/NVIDIA-Nemotron-3-Super-120B-A12B-4bit",
    openai_name="nvidia/nemotron-3-super-120b-a12b",
    bedrock_name="nvidia.nemotron-super-3-120b",
    bedrock_litellm_name="bedrock/converse/nvidia.nemotron-super-3-120b",
    context_length=262144,
)
NVIDIA_NEMOTRON_3_ULTRA_550B_A55B = ModelIdentifier(
    "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16",
    "nemotron-3-ultra:cloud",
    openai_name="nvidia/nemotron-3-ultra-550b-a55b",
    context_length=262144,
)
NVIDIA_NEMOTRON_3_NANO_OMNI_30B_A3B = ModelIdentifier(
    "nvidia/Nemotron-3-Nano-Omni-30B-A3B-Reasoning-BF16",
    "nemotron3:33b",
    openai_name="nvidia/nemotron-3-nano-omni-30b-a3b-reasoning",
    context_length=131072,
)
NVIDIA_NEMOTRON_NANO_9B_V2 = ModelIdentifier(
    "nvidia/NVIDIA-Nemotron-Nano-9B-v2",
    mlx_name="mlx-community/NVIDIA-Nemotron-Nano-9B-v2-4bits",
    openai_name="nvidia/nvidia-nemotron-nano-9b-v2",
    bedrock_name="nvidia.nemotron-nano-9b-v2",
    bedrock_litellm_name="bedrock/converse/nvidia.nemotron-nano-9b-v2",
    context_length=131072,
)
NVIDIA_NEMOTRON_NANO_12B_V2 = ModelIdentifier(
    "nvidia/NVIDIA-Nemotron-Nano-12B-v2", context_length=131072
)
NVIDIA_LLAMA_3_1_NEMOTRON_NANO_8B = ModelIdentifier(
    "nvidia/Llama-3.1-Nemotron-Nano-8B-v1",
    openai_name="nvidia/llama-3.1-nemotron-nano-8b-v1",
    context_length=131072,
)
NVIDIA_LLAMA_3_3_NEMOTRON_SUPER_49B = ModelIdentifier(
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1_5",
    openai_name="nvidia/llama-3.3-nemotron-super-49b-v1.5",
    context_length=131072,
)
NVIDIA_LLAMA_3_1_NEMOTRON_ULTRA_253B = ModelIdentifier(
    "nvidia/Llama-3_1-Nemotron-Ultra-253B-v1",
    openai_name="nvidia/llama-3.1-nemotron-ultra-253b-v1",
    context_length=131072,
)
NVIDIA_LLAMA_3_1_NEMOTRON_70B = ModelIdentifier(
    "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF",
    "nemotron:70b",
    mlx_name="mlx-community/Llama-3.1-Nemotron-70B-Instruct-HF-4bit",
    openai_name="nvidia/llama-3.1-nemotron-70b-instruct",
    context_length=131072,
)
NVIDIA_NEMOTRON_MINI_4B = ModelIdentifier(
    "nvidia/Nemotron-Mini-4B-Instruct",
    "nemotron-mini:4b",
    openai_name="nvidia/nemotron-mini-4b-instruct",
    context_length=4096,
)

# ----- OpenAI -----------------------------------------------------------------
OPENAI_GPT_OSS_20B = ModelIdentifier(
    "openai/gpt-oss-20b",
    "gpt-oss:20b",
    bedrock_name="openai.gpt-oss-20b",
    bedrock_litellm_name="bedrock/converse/openai.gpt-oss-20b-1:0",
    context_length=131072,
)
OPENAI_GPT_OSS_120B = ModelIdentifier(
    "openai/gpt-oss-120b",
    "gpt-oss:120b",
    bedrock_name="openai.gpt-oss-120b",
    bedrock_litellm_name="bedrock/converse/openai.gpt-oss-120b-1:0",
    context_length=131072,
)
OPENAI_GPT_5_1 = ModelIdentifier(openai_name="gpt-5.1")
OPENAI_GPT_4O = ModelIdentifier(openai_name="gpt-4o", context_length=128000)
OPENAI_GPT_4O_MINI = ModelIdentifier(openai_name="gpt-4o-mini", context_length=128000)

# ----- Google, Microsoft, DeepSeek, Hugging Face ------------------------------
GOOGLE_GEMMA_3N_E4B = ModelIdentifier("google/gemma-3n-e4b-it", "gemma3n:e4b", context_length=32768)
MS_PHI_4_14B = ModelIdentifier("microsoft/phi-4", "phi4:14b", context_length=16384)
MS_PHI_4_MINI_REASONING_4B = ModelIdentifier(
    "microsoft/Phi-4-mini-flash-reasoning", "phi4-mini-reasoning:3.8b", context_length=131072
)
DEEPSEEK_R1_8B = ModelIdentifier(
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "deepseek-r1:8b", context_length=131072
)
HF_SMOLLM2_2B = ModelIdentifier(
    "HuggingFaceTB/SmolLM2-1.7B-Instruct",
    "smollm2:1.7b",
    mlx_name="mlx-community/SmolLM2-1.7B-Instruct",
    context_length=8192,
)
HF_SMOLLM3_3B_no_ollama = ModelIdentifier("HuggingFaceTB/SmolLM3-3B", context_length=65536)

# ----- the embedded engine's default model ---------------------------------------
SMOLLM2_135M_INSTRUCT = ModelIdentifier(
    "HuggingFaceTB/SmolLM2-135M-Instruct",
    "smollm2:135m",
    context_length=8192,
    local_name="SmolLM2-135M-Instruct.Q4_1",
)
