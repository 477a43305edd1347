from mellea.stdlib.context import SimpleContext
ctx = SimpleContext()
