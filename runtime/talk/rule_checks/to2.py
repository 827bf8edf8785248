import asyncio
async def main():
    loop = asyncio.get_running_loop(); t0 = loop.time()
    at = lambda: f" at {round(loop.time()-t0)}"
    ct = asyncio.current_task
    log=[]
    # expired + outer cancel during cleanup
    async def w():
        try:
            async with asyncio.timeout(1):
                try: await asyncio.sleep(10)
                except asyncio.CancelledError:
                    log.append("body cancelled"+at())
                    await asyncio.sleep(5)
                    log.append("cleanup finished")
                    raise
        except TimeoutError: log.append("TE"+at())
        except asyncio.CancelledError: log.append("CE"+at()); raise
    t = asyncio.create_task(w()); await asyncio.sleep(2); t.cancel()
    try: await t
    except asyncio.CancelledError: log.append("w cancelled"+at())
    print(log); log.clear()
    # swallow timeout's cancel then outer cancel
    async def w2():
        try:
            async with asyncio.timeout(1):
                try: await asyncio.sleep(10)
                except asyncio.CancelledError: log.append("swallowed"+at())
                await asyncio.sleep(5)
        except TimeoutError: log.append("TE"+at())
        except asyncio.CancelledError: log.append("CE"+at()+f" cancelling={ct().cancelling()}"); raise
    t0 = loop.time()
    t = asyncio.create_task(w2()); await asyncio.sleep(2); t.cancel()
    try: await t
    except asyncio.CancelledError: log.append("w2 cancelled"+at())
    print(log); log.clear()
    # foreign cancel
    t0 = loop.time()
    async def w3():
        async with asyncio.timeout(5) as tm:
            await asyncio.sleep(10)
    t = asyncio.create_task(w3()); await asyncio.sleep(1); t.cancel()
    try: await t
    except asyncio.CancelledError as e: print("foreign", repr(e), t.cancelled())
    # wait_for outer cancel
    async def w4():
        return await asyncio.wait_for(asyncio.sleep(10), 5)
    t = asyncio.create_task(w4()); await asyncio.sleep(1); t.cancel()
    try: await t
    except asyncio.CancelledError as e: print("wf foreign", repr(e), t.cancelled())
    # nested, inner first
    t0 = loop.time()
    async with asyncio.timeout(5) as outer:
        try:
            async with asyncio.timeout(1) as inner:
                await asyncio.sleep(10)
        except TimeoutError: print("inner TE"+at())
        await asyncio.sleep(1)
    print("outer ok", outer.expired(), inner.expired(), at())
asyncio.run(main())
