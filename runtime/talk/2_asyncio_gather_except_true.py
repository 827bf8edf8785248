# Talk program 2 (slides 32-37): asyncio.gather, return_exceptions=True.
# Coroutines as in 1_asyncio_gather_except.py. Slide 41's variant returns
# 'DONE' and adds a `match` loop; we keep slide 32-36's text ('success').
import asyncio


async def coro_success():
    return "success"


async def coro_value_err():
    raise ValueError


async def coro_type_err():
    raise TypeError


async def main():
    """return_exceptions=True"""
    results = await asyncio.gather(
        coro_success(), coro_value_err(), coro_type_err(),
        return_exceptions=True)
    print(f"{results=}")


asyncio.run(main())
