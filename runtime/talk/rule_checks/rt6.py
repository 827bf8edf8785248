import asyncio
async def ki():
    await asyncio.sleep(0)
    raise KeyboardInterrupt
async def leftover():
    try: await asyncio.sleep(100)
    except asyncio.CancelledError:
        await asyncio.sleep(1); print("cleanup done"); raise
async def main2():
    asyncio.create_task(leftover())
    asyncio.create_task(ki())
    await asyncio.sleep(0)
    return "main2"
try: print(asyncio.run(main2()))
except BaseException as e: print("run raised", repr(e))
