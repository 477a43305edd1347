from mellea.core import CBlock, Component, ModelOutputThunk
