import mellea

m = mellea.start_session()
result = m.instruct("Analyse customer feedback.", requirements=["..."])
