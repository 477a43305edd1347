# Requires: mellea, pillow
# Returns: str
from PIL import Image
from mellea import start_session
from mellea.backends import ModelOption, model_ids

m = start_session(
    model_id=model_ids.IBM_GRANITE_VISION_4_1_4B,
    model_options={ModelOption.CONTEXT_WINDOW: 4096},
)

img = Image.open("photo.jpg")
result = m.instruct("Is the subject in this image smiling?", images=[img])
print(str(result))
# Output will vary — LLM responses depend on model and temperature.
