# Requires: mellea, pydantic
# Returns: ModelOutputThunk
from pydantic import BaseModel
from mellea import start_session
from mellea.stdlib.components import Instruction

class Planet(BaseModel):
    name: str
    diameter_km: float
    has_rings: bool

m = start_session()
instruction = Instruction(description="Describe Saturn.")
result = m.act(instruction, format=Planet)

# result.value is a JSON string — not a Planet instance
print(result.value)
# -> '{"name": "Saturn", "diameter_km": 120536.0, "has_rings": true}'

# Validate to get a typed Planet instance:
planet = Planet.model_validate_json(str(result))
print(planet.name, planet.has_rings)
# Output will vary — LLM responses depend on model and temperature.
