import mellea
m = mellea.start_session()  # returns a MelleaSession
