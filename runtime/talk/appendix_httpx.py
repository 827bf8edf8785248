# The talk's last program (appendix "HTTPX with TaskGroup"), as on the slide
# but for its URL: the loopback fixture's address (argv[1]) instead of
# https://pokeapi.co/api/v2/pokemon/. asyncio + httpx (Debian python3-httpx).
import asyncio
import sys
from time import time

import httpx

URL = sys.argv[1]


async def access_url_poke(client, num: int) -> str:
    r = await client.get(f"{URL}{num}")
    pokemon = r.json()  # parse the JSON
    return pokemon["name"]  # take out the name


async def main_poke():
    """Fetch 150 pokemon with httpx"""
    start = time()
    async with httpx.AsyncClient() as client:
        try:
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
