from mellea.stdlib.functional import call_tools
from mellea.stdlib.context import SimpleContext

# Step 1: Generate with tool calls enabled
result, ctx = instruct(
    "Use the calculator to compute 2 + 2",
    context,
    backend,
    tool_calls=True,  # Enable tool calling
)

# Step 2: Execute the tools
tool_messages = call_tools(result, backend)

# Step 3: Add results to context manually
for tool_message in tool_messages:
    ctx = ctx.add(tool_message)

# Step 4: Continue the conversation
next_result, ctx = instruct(
    "What was the result?",
    ctx,
    backend,
)
