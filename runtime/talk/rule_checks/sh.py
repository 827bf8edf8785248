import asyncio, sys
def handler(loop, ctx):
    print("HANDLER:", ctx["message"], repr(ctx.get("exception")))
async def main():
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(handler)
    t0 = loop.time()
    now = lambda: round(loop.time()-t0, 2)
    async def fail(d, e):
        await asyncio.sleep(d); raise e
    async def val(d, v):
        await asyncio.sleep(d); return v
    # SH-3: shield cancelled, inner fails later
    async def w():
        await asyncio.shield(fail(2, ValueError('late')))
    t = asyncio.create_task(w())
    await asyncio.sleep(1)
    t.cancel()
    try: await t
    except asyncio.CancelledError: print("SH1 awaiter cancelled", now())
    await asyncio.sleep(2)
    print("after inner failed", now())
    import gc; gc.collect()
    # SH-2 inner cancelled on its own
    inner = asyncio.create_task(val(5, 1))
    async def w2(): return await asyncio.shield(inner)
    t = asyncio.create_task(w2())
    await asyncio.sleep(1)
    inner.cancel("own")
    try: await t
    except asyncio.CancelledError as e: print("SH2", repr(e), t.cancelled(), now())
asyncio.run(main())
print("end")
