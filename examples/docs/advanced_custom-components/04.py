from mellea import start_session

with start_session() as m:
    thunk = m.act(form)
    result = form.parse(thunk)
