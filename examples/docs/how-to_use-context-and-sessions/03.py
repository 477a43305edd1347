import asyncio
from mellea import start_session
from mellea.stdlib.context import ChatContext

async def main():
    m = start_session(ctx=ChatContext())
    m.instruct("Multiply 2x2.")

    m1 = m.clone()
    m2 = m.clone()

    co1 = m1.ainstruct("Multiply that by 3")
    co2 = m2.ainstruct("Multiply that by 5")

    print(await co1)  # 12
    print(await co2)  # 20

asyncio.run(main())
