# appendix_httpx.py with a timeout (argv[2] seconds) around the whole
# TaskGroup, inside the try: the variant runtime/talk/appendix_test.sh runs
# against a fixture whose resources hang.
import asyncio
import sys
from time import time

import httpx

URL = sys.argv[1]
TIMEOUT = float(sys.argv[2])


async def access_url_poke(client, num: int) -> str:
    r = await client.get(f"{URL}{num}")
    pokemon = r.json()  # parse the JSON
    return pokemon["name"]  # take out the name


async def main_poke():
    """Fetch 150 pokemon with httpx"""
    start = time()
    async with httpx.AsyncClient() as client:
        try:
            async with asyncio.timeout(TIMEOUT):
                async with asyncio.TaskGroup() as tg:
                    tasks = [
                        tg.create_task(access_url_poke(client, number))
                        for number in range(1, 151)
                    ]
        except* BaseException as e:
            print(f"{e=}")
        results = [task.result() for task in tasks]
        print(results)
    print("time: ", time() - start)


asyncio.run(main_poke())
