# Talk program 5 (slides 87-105): the manual fix for program 4: explicit
# tasks, cancel the unfinished ones, sleep(1) to let their cleanup run.
# Reconstruction: the slide text loses indentation; we read slide 93 as
# `if task.done() is False: task.cancel(); await asyncio.sleep(1)` (both in
# the `if`), with the loop after the try/except and print("DONE") last.
# coro_long is slide 83's version with try/except CancelledError.
import asyncio


async def coro_success():
    return "success"


async def coro_value_err():
    raise ValueError


async def coro_long():
    try:
        await asyncio.sleep(1)
        print("coro_long: Task is still running.")
        return "DONE?"
    except asyncio.CancelledError as err:
        print("coro_long: Task was cancelled.")
        raise asyncio.CancelledError


async def main():
    """return_exceptions False"""
    try:
        task1 = asyncio.create_task(coro_success())
        task2 = asyncio.create_task(coro_value_err())
        task3 = asyncio.create_task(coro_long())
        results = await asyncio.gather(*[task1, task2, task3])
        print(f"{results=}")
    except ValueError as err:
        print(f"{err=}")
    except TypeError as err:
        print(f"{err=}")
    for task in [task1, task2, task3]:
        if task.done() is False:
            task.cancel()  # Cancel unfinished tasks
            await asyncio.sleep(1)
    print("DONE")


asyncio.run(main())
