import asyncio
async def main():
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    now = lambda: round(loop.time()-t0, 2)
    ct = asyncio.current_task
    # TO-5 reschedule after expiry message
    try:
        async with asyncio.timeout(1) as tm:
            try: await asyncio.sleep(10)
            except asyncio.CancelledError:
                try: tm.reschedule(None)
                except RuntimeError as e: print("TO5", e)
                raise
    except TimeoutError: print("TO5 timeout", now())
    # TO-4 swallow: expired, normal exit
    async with asyncio.timeout(1) as tm:
        try: await asyncio.sleep(10)
        except asyncio.CancelledError: pass
    print("TO4", tm.expired(), now(), ct().cancelling())
    try: tm.reschedule(None)
    except RuntimeError as e: print("TO5b", e)
    # nested equal deadlines
    try:
        async with asyncio.timeout(1) as outer:
            try:
                async with asyncio.timeout(1) as inner:
                    await asyncio.sleep(10)
            except TimeoutError: print("inner TE")
            except asyncio.CancelledError: print("inner CE passes"); raise
    except TimeoutError: print("outer TE", now(), outer.expired(), inner.expired(), ct().cancelling())
    try:
        await asyncio.sleep(1); print("no leaked cancel", now())
    except asyncio.CancelledError: print("leaked cancel")
    # TO-7 timeout(0) with no suspension
    async with asyncio.timeout(0) as tm:
        x = 1
    print("TO7", tm.expired())
    await asyncio.sleep(0.5); print("TO7 no cancel", now())
    # TO-7 pending cancel + timeout(0)
    ct().cancel()
    try:
        async with asyncio.timeout(0) as tm:
            await asyncio.sleep(1)
    except TimeoutError: print("TO7b TE", ct().cancelling())
    except asyncio.CancelledError: print("TO7b CE"); ct().uncancel()
    # wait_for swallow value
    async def sw():
        try: await asyncio.sleep(10)
        except asyncio.CancelledError: await asyncio.sleep(1); return "sv"
    print("WF1", await asyncio.wait_for(sw(), 1), now())
    ran=[]
    async def body(): ran.append(1); return 5
    try: await asyncio.wait_for(body(), 0)
    except TimeoutError: print("WF2 TE", ran)
    t = asyncio.create_task(body()); await asyncio.sleep(0)
    print("WF2 done", await asyncio.wait_for(t, 0))
    try: await asyncio.wait_for(body(), -1)
    except TimeoutError: print("WF2 neg TE", ran)
asyncio.run(main())
