import asyncio
log=[]
async def main():
    async def other(): log.append("other ran")
    asyncio.create_task(other())
    try: await asyncio.current_task()
    except RuntimeError as e: log.append("self-await: " + str(e))
asyncio.run(main()); print(log)
async def ki():
    await asyncio.sleep(0)
    raise KeyboardInterrupt
async def main2():
    asyncio.create_task(ki())
    await asyncio.sleep(0)
    return "main2"
try: print(asyncio.run(main2()))
except BaseException as e: print("run raised", repr(e))
