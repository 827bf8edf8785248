# Talk program 4 (slides 64-73): gather leaves coro_long running.
# coro_long is the plain version of slide 82 (sleep(1), print, return), before
# the try/except of slide 83 is added. The slides claim the output ends with
# "coro_long: Task is still running." after DONE; on CPython 3.11-3.13
# asyncio.run() cancels the leftover task when main() returns (runners.py
# _cancel_all_tasks), so that line never prints: see 4_remaining_tasks.expected.
import asyncio


async def coro_success():
    return "success"


async def coro_value_err():
    raise ValueError


async def coro_long():
    await asyncio.sleep(1)
    print("coro_long: Task is still running.")
    return "DONE?"


async def main():
    """return_exceptions False"""
    try:
        results = await asyncio.gather(
            coro_success(), coro_value_err(), coro_long()
        )
        print(f"{results=}")
    except ValueError as err:
        print(f"{err=}")
    except TypeError as err:
        print(f"{err=}")
    print("DONE")


asyncio.run(main())
