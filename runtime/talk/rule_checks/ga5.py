import asyncio
async def main():
    log=[]
    async def c():
        await asyncio.sleep(1); return "c"
    async def w():
        try:
            global ct
            ct = asyncio.ensure_future(c())
            r = await asyncio.gather(ct)
            log.append(f"gather returned {r}")
            await asyncio.sleep(0)
            log.append("not cancelled")
        except asyncio.CancelledError: log.append("w cancelled"); raise
    wt = asyncio.create_task(w())
    async def x():
        await asyncio.sleep(0)
        await asyncio.sleep(1)
        log.append(f'c done: {ct.done()}')
        log.append(f"x cancels: {wt.cancel()}")
    asyncio.create_task(x())
    await asyncio.sleep(0)
    try: await wt
    except asyncio.CancelledError: pass
    print(log, wt.cancelled())
asyncio.run(main())
