import asyncio
async def main():
    loop = asyncio.get_running_loop(); t0 = loop.time()
    at = lambda: f" at {round(loop.time()-t0)}"
    log=[]
    async def child():
        try: await asyncio.sleep(10)
        except asyncio.CancelledError as e:
            log.append(f"child got {e.args[0] if e.args else '?'}" + at())
            await asyncio.sleep(2); log.append("child cleanup done"+at()); raise
        return "x"
    async def w():
        try: await asyncio.gather(child(), return_exceptions=True)
        except asyncio.CancelledError: log.append("gather cancelled"+at()); raise
    t = asyncio.create_task(w()); await asyncio.sleep(1); t.cancel("stop")
    try: await t
    except asyncio.CancelledError: pass
    print(log)
asyncio.run(main())
