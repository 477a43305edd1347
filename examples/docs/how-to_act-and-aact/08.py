# Requires: mellea
# Returns: None
import asyncio
from mellea import start_session
from mellea.stdlib.components import Instruction

async def main():
    m = start_session()
    instruction = Instruction(description="Write a limerick about debugging.")
    result = await m.aact(instruction, await_result=True)
    print(str(result))
    # Output will vary — LLM responses depend on model and temperature.

asyncio.run(main())
