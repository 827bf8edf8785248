import asyncio
async def fail(e):
    await asyncio.sleep(0); raise e
async def inner():
    async with asyncio.TaskGroup() as g:
        g.create_task(fail(TypeError('t')))
async def main():
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(fail(ValueError('v')))
            g.create_task(inner())
    except* ValueError as e: print(repr(e))
    except* TypeError as e: print(repr(e))
asyncio.run(main())
