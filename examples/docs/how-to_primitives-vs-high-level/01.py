# With MelleaSession (simplest)
with start_session() as m:
    result = m.chat("What is 2+2?")
    print(result.value)

# With chat() (explicit, no session state)
from mellea.stdlib.functional import chat
result, ctx = chat("What is 2+2?", ctx, backend)
