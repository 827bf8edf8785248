import asyncio
async def main():
    loop = asyncio.get_running_loop(); t0 = loop.time()
    at = lambda: f" at {round(loop.time()-t0)}"
    log = []
    async def fail():
        await asyncio.sleep(1); raise ValueError('a')
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(fail())
            try: await asyncio.sleep(10)
            except asyncio.CancelledError: log.append("body swallowed"+at())
            await asyncio.sleep(1)
            log.append("body continued"+at())
    except ExceptionGroup as e: log.append(repr(e)+at()+f" cancelling={asyncio.current_task().cancelling()}")
    tg = asyncio.TaskGroup()
    async with tg: pass
    try:
        async with tg: pass
    except RuntimeError as e: log.append(str(e))
    print(log)
asyncio.run(main())
