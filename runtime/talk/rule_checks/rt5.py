import asyncio
log=[]
def handler(loop, ctx):
    log.append("HANDLER: " + ctx["message"] + " " + repr(ctx.get("exception")))
async def ki():
    raise KeyboardInterrupt
async def b():
    log.append("B ran")
async def main():
    asyncio.get_running_loop().set_exception_handler(handler)
    asyncio.create_task(ki()); asyncio.create_task(b())
    try: await asyncio.sleep(10)
    except asyncio.CancelledError: log.append("main cancelled"); raise
try: asyncio.run(main())
except BaseException as e: log.append("run raised " + repr(e))
print(log)
# CX-8
log.clear()
async def main2():
    asyncio.get_running_loop().set_exception_handler(handler)
    async def f(): raise ValueError("x")
    t = asyncio.create_task(f()); await asyncio.sleep(0); await asyncio.sleep(0)
    print("cancel on done:", t.cancel())
    async def g(): raise TypeError("y")
    t2 = asyncio.create_task(g()); await asyncio.sleep(0)
    del t, t2
    import gc; gc.collect()
    await asyncio.sleep(0)
asyncio.run(main2()); print(log)
# CX-4 / CX-5
async def main3():
    async def selfcancel():
        raise asyncio.CancelledError("mine")
    t = asyncio.create_task(selfcancel())
    try: await t
    except asyncio.CancelledError as e: print("CX4 self raise:", t.cancelled(), repr(e))
    async def no_suspend():
        asyncio.current_task().cancel("pending")
        return 5
    t = asyncio.create_task(no_suspend())
    try: print(await t)
    except asyncio.CancelledError as e: print("CX4 must_cancel then return:", t.cancelled(), repr(e))
    async def raise_other():
        asyncio.current_task().cancel()
        raise ValueError("v")
    t = asyncio.create_task(raise_other())
    try: await t
    except ValueError as e: print("CX4 other error wins:", t.cancelled(), repr(e))
    async def sl(): await asyncio.sleep(10)
    t = asyncio.create_task(sl()); await asyncio.sleep(0)
    print("CX1 cancel ret", t.cancel("m1"), t.cancelling(), t.cancel("m2"), t.cancelling())
    try: await t
    except asyncio.CancelledError as e: print("CX5 first", repr(e))
    try: await t
    except asyncio.CancelledError as e: print("CX5 second", repr(e))
    # CX-9 3.13 uncancel withdraws
    async def wd():
        asyncio.current_task().cancel()
        asyncio.current_task().uncancel()
        await asyncio.sleep(0)
        return "not cancelled"
    t = asyncio.create_task(wd())
    try: print("CX9", await t)
    except asyncio.CancelledError: print("CX9 cancelled")
asyncio.run(main3())
