# Talk program 6 (slides 111-124): TaskGroup cancels coro_long by itself.
# coro_long as in 5_canceling_task_gather.py; results/print after the
# `async with` block, as in program 3. The slides show err= before the
# coro_long line at first, then (slide 124) note that the real order is
# swapped: the group waits for the cancelled child before raising.
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
    """Cancel in TaskGroup"""
    try:
        async with asyncio.TaskGroup() as g:
            task1 = g.create_task(coro_success())
            task2 = g.create_task(coro_value_err())
            task3 = g.create_task(coro_long())
        results = [task1.result(), task2.result(), task3.result()]
        print(f"{results=}")
    except* ValueError as err:
        print(f"{err=}")
    except* TypeError as err:
        print(f"{err=}")
    print("DONE")


asyncio.run(main())
