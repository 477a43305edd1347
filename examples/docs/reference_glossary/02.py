from mellea.stdlib.context import ChatContext
ctx = ChatContext()
