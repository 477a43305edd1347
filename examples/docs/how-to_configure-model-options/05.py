from mellea.backends import ModelOption

# Tighter bound for a known-fast remote endpoint
mot = await m.ainstruct(
    "Summarise this document.",
    model_options={ModelOption.STREAM: True, ModelOption.STREAM_TIMEOUT: 10},
)

# Larger value for slow local inference (e.g. large model on CPU)
mot = await m.ainstruct(
    "Write a long analysis.",
    model_options={ModelOption.STREAM: True, ModelOption.STREAM_TIMEOUT: 300},
)

# Disable entirely — original unbounded behaviour
mot = await m.ainstruct(
    "Write a long analysis.",
    model_options={ModelOption.STREAM: True, ModelOption.STREAM_TIMEOUT: None},
)
