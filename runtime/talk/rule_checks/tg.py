import asyncio, sys
async def main():
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    now = lambda: round(loop.time()-t0, 2)
    # TG-10 messages
    tg = asyncio.TaskGroup()
    c = asyncio.sleep(0)
    try: tg.create_task(c)
    except RuntimeError as e: print("not entered:", e)
    c.close()
    async with tg: pass
    c = asyncio.sleep(0)
    try: tg.create_task(c)
    except RuntimeError as e: print("finished:", e)
    c.close()
    # shutting down
    async def fail(d, e):
        await asyncio.sleep(d); raise e
    log=[]
    async def late():
        log.append("late ran")
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(fail(1, ValueError('a')))
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                try: g.create_task(late())
                except RuntimeError as e: print("shutting:", e)
                raise
    except* ValueError as e: print("eg", repr(e), now(), asyncio.current_task().cancelling())
    await asyncio.sleep(0)
    print(log)
    # TG-3 completion order
    async def cleanup_fail(d, e):
        try: await asyncio.sleep(100)
        except asyncio.CancelledError:
            await asyncio.sleep(d); raise e
    t0 = loop.time()
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(cleanup_fail(2, TypeError('b')))
            g.create_task(cleanup_fail(1, ValueError('c')))
            g.create_task(fail(1, ValueError('a')))
    except ExceptionGroup as e: print("order", repr(e), now())
    # TG-8 already aborting + outer cancel
    async def inner():
        try:
            async with asyncio.TaskGroup() as g:
                g.create_task(cleanup_fail(5, TypeError('b')))
                g.create_task(fail(1, ValueError('a')))
        except ExceptionGroup as e:
            print("TG8 eg", repr(e), now(), asyncio.current_task().cancelling())
            try:
                await asyncio.sleep(1)
                print("TG8 not recancelled")
            except asyncio.CancelledError:
                print("TG8 recancelled", now())
                raise
    t0 = loop.time()
    t = asyncio.create_task(inner())
    await asyncio.sleep(2)
    t.cancel()
    try: await t
    except asyncio.CancelledError: print("TG8 task cancelled", now(), t.cancelled())
    # nested: outer child fails while main in inner group
    t0 = loop.time()
    async def sl(d, log, name):
        try: await asyncio.sleep(d)
        except asyncio.CancelledError: log.append(name+" cancelled"); raise
    log=[]
    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(fail(1, ValueError('o')))
            async with asyncio.TaskGroup() as inner_g:
                inner_g.create_task(sl(10, log, "innerchild"))
                await asyncio.sleep(10)
    except BaseException as e: print("nested1", repr(e), now(), asyncio.current_task().cancelling(), log)
    # nested: inner child fails
    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(sl(10, log, "outerchild"))
            async with asyncio.TaskGroup() as inner_g:
                inner_g.create_task(fail(1, ValueError('i')))
    except BaseException as e: print("nested2", repr(e), now(), asyncio.current_task().cancelling(), log)
    # TG-5 body base error + child cleanup error
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(cleanup_fail(1, ValueError('c')))
            await asyncio.sleep(1)
            raise KeyboardInterrupt
    except BaseException as e: print("TG5", repr(e), now())
    # TG-4 body error joins last
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(cleanup_fail(1, TypeError('child')))
            await asyncio.sleep(0)
            raise ValueError('body')
    except BaseException as e: print("TG4", repr(e), now())
    # TG-7 external cancel in body with child erroring in cleanup
    async def body7():
        try:
            async with asyncio.TaskGroup() as g:
                g.create_task(cleanup_fail(1, TypeError('child')))
                await asyncio.sleep(10)
        except BaseException as e:
            print("TG7 body saw", repr(e), now(), asyncio.current_task().cancelling())
            try: await asyncio.sleep(1); print("TG7 no recancel")
            except asyncio.CancelledError: print("TG7 recancelled", now()); raise
    t = asyncio.create_task(body7())
    await asyncio.sleep(1)
    t.cancel()
    try: await t
    except asyncio.CancelledError: print("TG7 cancelled", now())
asyncio.run(main())
