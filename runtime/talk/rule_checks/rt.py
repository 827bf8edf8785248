import asyncio
def handler(loop, ctx):
    print("HANDLER:", ctx["message"], repr(ctx.get("exception")))
async def main():
    asyncio.get_running_loop().set_exception_handler(handler)
    async def leftover(name, d):
        try: await asyncio.sleep(100)
        except asyncio.CancelledError:
            print(name, "cancelled at", asyncio.get_running_loop().time() - t0)
            await asyncio.sleep(d)
            print(name, "cleanup done")
            raise
    async def leftover_fail():
        try: await asyncio.sleep(100)
        except asyncio.CancelledError:
            raise ValueError("in drain")
    global t0
    t0 = asyncio.get_running_loop().time()
    asyncio.create_task(leftover("a", 2))
    asyncio.create_task(leftover("b", 1))
    asyncio.create_task(leftover_fail())
    await asyncio.sleep(1)
    return "main"
print(asyncio.run(main()))
