from mellea import start_session
from mellea.stdlib.context import ChatContext

m = start_session(ctx=ChatContext())
m.chat("What is the capital of France?")
m.chat("And what is its population?")

# Get the most recent model output
print(m.ctx.last_output())

# Get the full last turn (user message + assistant response)
print(m.ctx.last_turn())
