from mellea import start_session

m = start_session()
result = m.instruct("Summarise this paragraph in one sentence.")
