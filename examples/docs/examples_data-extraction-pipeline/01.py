from mellea import generative, start_session
from mellea.backends import model_ids

m = start_session()
