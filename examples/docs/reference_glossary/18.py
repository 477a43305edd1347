from mellea.backends import ModelOption
