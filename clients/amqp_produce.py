"""tally-amqp-produce: messages for the shop's queues, as the original's producer.py sent.

  tally-amqp-produce demo [--products 5] [--orders 3]
      creates test products through the queue `product`, then orders of them through
      `order` (the user, address and category: --user-id, --address-id, --category-id,
      or TEST_USER_ID, TEST_DELIVERY_ADDRESS_ID, TEST_CATEGORY_ID; 1 by default)
  tally-amqp-produce publish QUEUE JSON [--message-id ID] [--no-reply]
      one message; prints the bridge's reply

Every message carries a message_id (its idempotency key: publishing it again changes
nothing) and a reply_to queue of this command's own, and the command prints each reply
as one JSON line. Exit status: 0 when every reply was a success, 1 when one was an
error, 2 when a reply did not come within --timeout seconds. AMQP_URL names the broker
(amqp://guest:guest@127.0.0.1:5672/ by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from typing import Any

import aio_pika

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
QUEUES = ("product", "product_update", "order", "order_update")


class Producer:
    def __init__(self, channel: aio_pika.abc.AbstractChannel,
                 replies: aio_pika.abc.AbstractQueue, timeout: float) -> None:
        self.channel = channel
        self.replies = replies
        self.timeout = timeout
        self.failed = False

    async def send(self, queue: str, body: dict[str, Any] | str, message_id: str | None = None,
                   reply: bool = True) -> dict[str, Any] | None:
        """Publish one message (persistent, confirmed by the broker); its reply, or None."""
        data = body if isinstance(body, str) else json.dumps(body)
        correlation_id = uuid.uuid4().hex
        await self.channel.default_exchange.publish(
            aio_pika.Message(data.encode(), content_type="application/json",
                             message_id=message_id or uuid.uuid4().hex,
                             correlation_id=correlation_id,
                             reply_to=self.replies.name if reply else None,
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue)
        if not reply:
            return None
        async with self.replies.iterator(timeout=self.timeout) as messages:
            async for message in messages:
                await message.ack()
                if message.correlation_id != correlation_id:
                    continue  # the late reply of an earlier run's message
                answer: dict[str, Any] = json.loads(message.body)
                outcome = (message.headers or {}).get("x-tally-outcome", "ok")
                if outcome != "ok":
                    self.failed = True
                print(json.dumps({"queue": queue, "outcome": outcome, "reply": answer}),
                      flush=True)
                return answer
        return None


async def run(args: argparse.Namespace) -> int:
    connection = await aio_pika.connect(args.url)
    try:
        channel = await connection.channel()
        for queue in QUEUES:  # as the bridge declares them, so nothing sent is dropped
            await channel.declare_queue(queue, durable=True)
        replies = await channel.declare_queue("", exclusive=True)
        producer = Producer(channel, replies, args.timeout)
        try:
            if args.command == "publish":
                await producer.send(args.queue, args.json, args.message_id,
                                    reply=not args.no_reply)
            else:
                await demo(producer, args)
        except TimeoutError:
            print(f"tally-amqp-produce: no reply within {args.timeout} s", file=sys.stderr)
            return 2
        return 1 if producer.failed else 0
    finally:
        await connection.close()


async def demo(producer: Producer, args: argparse.Namespace) -> None:
    run_id = uuid.uuid4().hex[:8]
    product_ids = []
    for n in range(1, args.products + 1):
        # The original's spelling: price as a number, stock_quantity.
        product = await producer.send("product", {
            "name": f"Test product {n} ({run_id})", "description": f"test product {n}",
            "price": round(9.99 + n * 10, 2), "stock_quantity": 100,
            "category_id": args.category_id})
        if product and "id" in product:
            product_ids.append(int(product["id"]))
    for n in range(args.orders):
        if not product_ids:
            break
        await producer.send("order", {
            "user_id": args.user_id, "delivery_address_id": args.address_id,
            "items": [{"product_id": product_ids[(n + k) % len(product_ids)], "quantity": 1 + k}
                      for k in range(min(2, len(product_ids)))]})


def parse(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="tally-amqp-produce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=env.get("AMQP_URL") or DEFAULT_URL)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for each reply")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_cmd = commands.add_parser("demo", help="test products and orders")
    demo_cmd.add_argument("--products", type=int, default=5)
    demo_cmd.add_argument("--orders", type=int, default=3)
    demo_cmd.add_argument("--user-id", type=int, default=int(env.get("TEST_USER_ID", "1")))
    demo_cmd.add_argument("--address-id", type=int,
                          default=int(env.get("TEST_DELIVERY_ADDRESS_ID", "1")))
    demo_cmd.add_argument("--category-id", type=int,
                          default=int(env.get("TEST_CATEGORY_ID", "1")))
    publish = commands.add_parser("publish", help="one message")
    publish.add_argument("queue", choices=QUEUES)
    publish.add_argument("json", help="the message body")
    publish.add_argument("--message-id", help="its idempotency key (default: a new one)")
    publish.add_argument("--no-reply", action="store_true", help="do not wait for a reply")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    sys.exit(asyncio.run(run(parse(argv))))


if __name__ == "__main__":
    main()
