def t(f):
    try: f()
    except BaseException as e: print(repr(e))
def a():
    try: raise ValueError('n')
    except* TypeError: pass
def b():
    try: raise ValueError('n')
    except* ValueError: raise
def c():
    try: raise ExceptionGroup('eg', [ValueError('v'), TypeError('t')])
    except* ValueError: raise
def d():
    try: raise ExceptionGroup('eg', [ValueError('v'), TypeError('t')])
    except* ValueError: raise RuntimeError('new')
def e():
    try: raise ExceptionGroup('eg', [ValueError('v'), TypeError('t')])
    except* ValueError: raise RuntimeError('new')
    except* TypeError: pass
for f in (a,b,c,d,e): t(f)
