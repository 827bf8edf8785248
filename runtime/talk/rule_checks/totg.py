import asyncio
async def main():
    loop = asyncio.get_running_loop(); t0 = loop.time()
    at = lambda: f" at {round(loop.time()-t0)}"
    log=[]
    async def sl(name):
        try: await asyncio.sleep(10)
        except asyncio.CancelledError: log.append(name+" cancelled"+at()); raise
    try:
        async with asyncio.timeout(1):
            async with asyncio.TaskGroup() as g:
                g.create_task(sl("child"))
                await asyncio.sleep(10)
    except TimeoutError as e: log.append("TimeoutError"+at()+f" cancelling={asyncio.current_task().cancelling()}")
    async def timed():
        async with asyncio.timeout(1):
            await asyncio.sleep(10)
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(timed()); g.create_task(sl("sibling"))
    except ExceptionGroup as e: log.append(repr(e)+at())
    print(log)
asyncio.run(main())
