# Requires: mellea
# Returns: MelleaSession
import mellea

m = mellea.start_session()
