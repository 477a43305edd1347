from mellea.stdlib.functional import acall_tools

# In async context
tool_messages = await acall_tools(result, backend)
