# Old (deprecated)
from mellea.stdlib.functional import _call_tools
result = _call_tools(mot, backend)

# New (public)
from mellea.stdlib.functional import call_tools
result = call_tools(mot, backend)
