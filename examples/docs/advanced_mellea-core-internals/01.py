from mellea.core import CBlock

block = CBlock("What is 1+1?")
