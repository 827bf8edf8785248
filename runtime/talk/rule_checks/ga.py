import asyncio
async def main():
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    now = lambda: round(loop.time()-t0, 2)
    async def val(d, v):
        await asyncio.sleep(d); return v
    async def fail(d, e):
        await asyncio.sleep(d); raise e
    log = []
    async def sl(d, name):
        try: await asyncio.sleep(d); log.append(name+" done"); return name
        except asyncio.CancelledError: log.append(name+" cancelled"); raise
    # GA-3 child cancelled alone, with message
    t = asyncio.create_task(sl(10, "c"))
    async def canc():
        await asyncio.sleep(1); t.cancel("bye")
    asyncio.create_task(canc())
    try: await asyncio.gather(t, val(2, 1))
    except asyncio.CancelledError as e: print("GA3", repr(e), now(), asyncio.current_task().cancelling())
    t = asyncio.create_task(sl(10, "c2"))
    asyncio.create_task(canc())
    r = await asyncio.gather(t, val(2, 1), return_exceptions=True)
    print("GA3 re", r, repr(r[0]), now())
    # GA-5 cancel gather with return_exceptions=True; one child swallows
    async def swallow():
        try: await asyncio.sleep(10)
        except asyncio.CancelledError: return "swallowed"
    async def waiter():
        return await asyncio.gather(swallow(), sl(10, "g5"), return_exceptions=True)
    w = asyncio.create_task(waiter())
    await asyncio.sleep(1)
    w.cancel("m")
    try: print(await w)
    except asyncio.CancelledError as e: print("GA5", repr(e), now(), log)
    # GA-5 return_exceptions False: first child cancelled completes gather
    async def waiter2():
        return await asyncio.gather(swallow(), sl(10, "g6"))
    w = asyncio.create_task(waiter2())
    await asyncio.sleep(1)
    w.cancel("m2")
    try: print(await w)
    except asyncio.CancelledError as e: print("GA5b", repr(e), now(), log)
asyncio.run(main())
