import asyncio
async def ki():
    await asyncio.sleep(1); raise KeyboardInterrupt
async def sl(name):
    try: await asyncio.sleep(10)
    except asyncio.CancelledError: print(name, "cancelled"); raise
async def main():
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(ki()); g.create_task(sl("sib"))
            await asyncio.sleep(5)
    except BaseException as e: print("main caught", repr(e)); raise
try: asyncio.run(main())
except BaseException as e: print("run raised", repr(e))
