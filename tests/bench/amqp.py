"""Orders through the AMQP queue `order` against CreateOrder over gRPC, in one run.

The same order every time (one user, one line of one product, whose stock row is hot:
the order `rpcs` places), N times each way, against one database:

(a) gRPC CreateOrder with an idempotency key per call (grpcload: every call a key of
    its own), `--streams` calls in flight: what a message costs the bridge, since every
    message is a keyed call;
(b) gRPC CreateOrder without a key (h2load), the same streams: the unkeyed reference;
(c) the queue: N persistent messages, each with a message_id of its own, published
    before the bridge starts; then the bridge (prefetch `--prefetch`) drains them. The
    rate is the orders committed over the time from the bridge consuming to the last
    order.

Every run is proved by rows: exactly N new orders each, and for (a)/(b) the server's own
OK counters, for (c) the bridge's `applied` counter and no dead letters. The machine is
shared: compare the ratios of one run, not absolute figures across runs.

    python -m tests.bench amqp [--orders 5000] [--prefetch 64] [--streams 64]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import aio_pika
import psycopg
from tally.shop.v1 import shop_pb2

from tests.bench import drivers
from tests.bench.common import fresh_database, machine, mean_batch_size
from tests.bench.rpcs import KEY_HEADER, UNKNOWN_FIELD, counted, rpc_counts
from tests.bench.shop import setup as setup_shop
from tests.support import BridgeProcess, ServerProcess, rabbitmqctl

USER, PRODUCT = 7, 42
PATH = "/tally.shop.v1.OrderService/CreateOrder"
RPC = "OrderService.CreateOrder"
STREAMS_PER_CONNECTION = 16


def orders(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute("select count(*) from shop.orders").fetchone()[0])


async def publish(amqp_url: str, n: int) -> None:
    body = (f'{{"user_id": {USER}, "delivery_address_id": {USER}, '
            f'"items": [{{"product_id": {PRODUCT}, "quantity": 1}}]}}').encode()
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        await channel.declare_queue("order", durable=True)
        tag = uuid.uuid4().hex[:8]
        for start in range(0, n, 500):  # confirmed in groups, to publish quickly
            await asyncio.gather(*(
                channel.default_exchange.publish(
                    aio_pika.Message(body, message_id=f"bench-{tag}-{i}",
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key="order")
                for i in range(start, min(n, start + 500))))


def line(label: str, n: int, seconds: float, proof: str) -> str:
    return f"{label:<44} {n / seconds:>8.0f} orders/s  ({n} orders in {seconds:.2f} s; {proof})"


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench amqp")
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--prefetch", type=int, default=64)
    parser.add_argument("--streams", type=int, default=64)
    args, _ = parser.parse_known_args(argv)
    n = args.orders

    url = fresh_database()
    setup_shop(url)
    vhost = f"tally-bench-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    server = ServerProcess(url, JOBS="false").start()
    bridge: BridgeProcess | None = None
    try:
        print(f"setup: {machine()}, RabbitMQ on it too; the order of `rpcs` (user {USER},"
              f" one line of product {PRODUCT}) {n} times each way; gRPC: {args.streams}"
              f" calls in flight ({STREAMS_PER_CONNECTION} per connection); queue: prefetch"
              f" {args.prefetch}, messages persistent, published before the bridge starts;"
              f" one server worker, the bridge one process, DB pool 4 each", flush=True)
        request = shop_pb2.CreateOrderRequest(
            user_id=USER, delivery_address_id=USER,
            items=[shop_pb2.CreateOrderRequest.Item(product_id=PRODUCT, quantity=1)]
        ).SerializeToString()
        connections = max(1, args.streams // STREAMS_PER_CONNECTION)
        results = {}
        for label, keyed in (("(a) gRPC CreateOrder, a key per call", True),
                             ("(b) gRPC CreateOrder, no key", False)):
            before_rows, before = orders(url), rpc_counts(server.metrics_addr)
            if keyed:
                done = drivers.grpcload(
                    server.addr, PATH, drivers.Varying([request], field=UNKNOWN_FIELD,
                                                       key_header=KEY_HEADER),
                    requests=n, connections=connections,
                    streams_per_connection=STREAMS_PER_CONNECTION)
            else:
                done = drivers.h2load(server.addr, PATH, request, requests=n,
                                      connections=connections,
                                      streams_per_connection=STREAMS_PER_CONNECTION)
            time.sleep(0.3)
            codes = counted(before, rpc_counts(server.metrics_addr), RPC)
            made = orders(url) - before_rows
            assert codes == {"OK": n} and made == n, (codes, made)
            results[label] = n / done.seconds
            print(line(label, n, done.seconds, f"server: {codes}, new rows {made}"),
                  flush=True)

        asyncio.run(publish(amqp_url, n))
        before_rows = orders(url)
        bridge = BridgeProcess(amqp_url, url, AMQP_PREFETCH=str(args.prefetch),
                               AMQP_REPORT_POLL_SECONDS="30")
        bridge.start()
        began, at_start = time.perf_counter(), orders(url) - before_rows
        while orders(url) - before_rows < n:
            time.sleep(0.02)
        seconds = time.perf_counter() - began
        time.sleep(0.3)
        applied = bridge.metric('tally_amqp_messages_total{outcome="applied",queue="order"}')
        dead = bridge.metric("tally_amqp_dead_letters_total")
        made = orders(url) - before_rows
        assert made == n and applied == n and dead == 0, (made, applied, dead)
        label = f"(c) queue `order`, prefetch {args.prefetch}"
        results[label] = (n - at_start) / seconds
        print(line(label, n - at_start, seconds,
                   f"bridge applied {applied:.0f}, dead letters {dead:.0f}, new rows {made};"
                   f" mean batch {mean_batch_size(bridge.metrics_addr, 'shop.create_orders'):.1f}"
                   f" orders"), flush=True)
        queue_rate = results[label]
        for other, rate in results.items():
            if other != label:
                print(f"queue / {other[:3]}: {queue_rate / rate:.2f}x")
    finally:
        if bridge is not None:
            bridge.stop()
        server.stop()
        rabbitmqctl("delete_vhost", vhost)
