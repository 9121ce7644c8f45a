"""The AMQP bridge end to end, against the real RabbitMQ (the machine's broker at
127.0.0.1:5672, guest/guest): each test on a virtual host of its own, made and
removed with rabbitmqctl, and a bridge process of its own.

Every queue's happy path and duplicates, the original's field names, replies, poison
messages parked in <queue>.dead, the bridge killed with SIGKILL mid-stream (no message
lost, none applied twice), its connection closed by the broker (it recovers), and the
report outbox published once per summary across restarts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aio_pika
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from tally.shop.v1 import shop_pb2 as pb

from tests.shop.helpers import item, new_category, new_product, new_user, unique
from tests.support import (
    BridgeProcess,
    free_port,
    rabbitmqctl,
    recreate_database,
    scratch_database_url,
)

pytestmark = pytest.mark.slow

BROKER = "amqp://guest:guest@127.0.0.1:5672/"
# Prefixed to every message_id the tests send: idempotency keys are rows of the shared test
# database, where another test (or an earlier run's) may use the same short names.
RUN = uuid.uuid4().hex[:8]


def sent_id(message_id: str | None) -> str | None:
    """The message_id a test's name for a message is sent as."""
    return None if message_id is None else f"{RUN}-{message_id}"


def name_of(message_id: str | None) -> str | None:
    """A test's name for a message, from the message_id it was sent as."""
    return None if message_id is None else message_id.removeprefix(f"{RUN}-")


@pytest.fixture
def vhost() -> Iterator[str]:
    name = f"tally-test-{uuid.uuid4().hex[:10]}"
    user = urlsplit(BROKER).username or "guest"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture
def amqp_url(vhost: str) -> str:
    return urlunsplit(urlsplit(BROKER)._replace(path="/" + quote(vhost, safe="")))


@pytest.fixture
def bridge(amqp_url: str, server) -> Iterator[BridgeProcess]:
    proc = BridgeProcess(amqp_url, report_queue=unique("report-")).start()
    yield proc
    proc.stop()


@pytest.fixture
async def mq(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


async def publish(mq, queue: str, body: object, message_id: str | None,
                  reply_to: str | None = None, correlation_id: str | None = None) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await mq.default_exchange.publish(
        aio_pika.Message(data, message_id=sent_id(message_id), reply_to=reply_to,
                         correlation_id=correlation_id,
                         delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
        routing_key=queue)


def publish_without_message_id(amqp_url: str, queue: str, body: bytes) -> None:
    """Publish one message with no message_id. aio-pika (aiormq) gives every message it
    publishes an id of its own, so this speaks AMQP 0-9-1 itself, frame by frame."""
    from pamqp import body as content
    from pamqp import commands, frame, header

    parts = urlsplit(amqp_url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672),
                                  timeout=10) as sock:
        buffer = b""

        def expect(kind: type) -> None:
            nonlocal buffer
            while True:
                try:
                    used, _, value = frame.unmarshal(buffer)
                except Exception:  # not a whole frame yet
                    chunk = sock.recv(65536)
                    assert chunk, "the broker closed the connection"
                    buffer += chunk
                    continue
                buffer = buffer[used:]
                if isinstance(value, kind):
                    return

        def send(value: object, channel: int = 0) -> None:
            sock.sendall(frame.marshal(value, channel))

        sock.sendall(header.ProtocolHeader().marshal())
        expect(commands.Connection.Start)
        send(commands.Connection.StartOk(
            response=f"\0{unquote(parts.username or 'guest')}\0"
                     f"{unquote(parts.password or 'guest')}"))
        expect(commands.Connection.Tune)
        send(commands.Connection.TuneOk(channel_max=1, frame_max=131072, heartbeat=0))
        send(commands.Connection.Open(virtual_host=unquote(parts.path[1:]) or "/"))
        expect(commands.Connection.OpenOk)
        send(commands.Channel.Open(), 1)
        expect(commands.Channel.OpenOk)
        send(commands.Basic.Publish(exchange="", routing_key=queue), 1)
        send(header.ContentHeader(0, len(body), commands.Basic.Properties(delivery_mode=2)), 1)
        send(content.ContentBody(body), 1)
        send(commands.Connection.Close(reply_code=200, reply_text="done", class_id=0,
                                       method_id=0))
        expect(commands.Connection.CloseOk)


async def take(mq, queue: str, n: int, seconds: float = 20.0
               ) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """n messages from `queue` (acknowledged), waiting up to `seconds` for them."""
    q = await mq.declare_queue(queue, durable=True) if not queue.startswith("amq.") \
        else await mq.get_queue(queue)
    got: list[aio_pika.abc.AbstractIncomingMessage] = []
    deadline = time.monotonic() + seconds
    while len(got) < n:
        message = await q.get(no_ack=True, fail=False)
        if message is not None:
            got.append(message)
            continue
        assert time.monotonic() < deadline, f"{len(got)} of {n} messages on {queue}"
        await asyncio.sleep(0.05)
    return got


async def eventually(check: Callable[[], bool], seconds: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def reply_queue(mq) -> aio_pika.abc.AbstractQueue:
    return await mq.declare_queue("", exclusive=True)


async def replies(queue, n: int, seconds: float = 20.0) -> list[tuple[str | None, dict]]:
    got = []
    deadline = time.monotonic() + seconds
    while len(got) < n:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            assert time.monotonic() < deadline, f"{len(got)} of {n} replies"
            await asyncio.sleep(0.05)
            continue
        got.append((message.correlation_id, json.loads(message.body)))
    return got


def count(admin_db, sql: str, *args: object) -> int:
    return admin_db.execute(sql, args).fetchone()[0]


async def test_product_queue_creates_once_and_replies(s, bridge, mq, admin_db):
    category = await new_category(s)
    replies_to = await reply_queue(mq)
    name = unique("amqp product ")
    # The original's spelling: price as a JSON number, snake_case names.
    body = {"name": name, "price": 12.5, "stock_quantity": 7, "category_id": category.id}
    for n in range(2):  # the second is a duplicate: same message_id
        await publish(mq, "product", body, "p-1", replies_to.name, f"c{n}")
    got = await replies(replies_to, 2)
    # `product` messages are served concurrently: the replies come in either order.
    assert sorted(c for c, _ in got) == ["c0", "c1"]
    first, second = got[0][1], got[1][1]
    assert first == second and first["name"] == name and first["price"] == "12.50"
    assert first["stock_quantity"] == 7
    assert count(admin_db, "select count(*) from shop.products where name = %s", name) == 1
    assert bridge.metric('tally_amqp_messages_total{outcome="applied",queue="product"}') == 2


async def test_a_refused_message_is_refused_again_from_its_record(s, bridge, mq, admin_db):
    """A message whose call failed (a category that does not exist) is parked; its failure
    is recorded against its message_id, so the same id with another body is refused as
    IDEMPOTENCY_KEY_REUSED, not applied."""
    name = unique("amqp refused ")
    body = {"name": name, "price": "1.00", "stock_quantity": 1, "category_id": 2**62}
    await publish(mq, "product", body, "r-1")
    first = (await take(mq, "product.dead", 1))[0]
    assert first.headers["x-tally-reason"] == "CATEGORY_NOT_FOUND"
    category = await new_category(s)
    await publish(mq, "product", {**body, "category_id": category.id}, "r-1")
    again = (await take(mq, "product.dead", 1))[0]
    assert again.headers["x-tally-reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert count(admin_db, "select count(*) from shop.products where name = %s", name) == 0


async def test_product_update_applies_once_in_order(s, bridge, mq, admin_db):
    product = await new_product(s, (await new_category(s)).id, stock=5)
    replies_to = await reply_queue(mq)
    updates = [({"product_id": product.id, "stock_quantity": 0}, "u-1"),
               ({"product_id": product.id, "stock_quantity": 0}, "u-1"),  # duplicate
               ({"productId": str(product.id), "price": "3.10"}, "u-2"),  # proto3 JSON
               ({"product_id": product.id, "stockQuantity": 9}, "u-3")]
    for body, message_id in updates:
        await publish(mq, "product_update", body, message_id, replies_to.name,
                      message_id)
    got = await replies(replies_to, 4)
    assert [c for c, _ in got] == ["u-1", "u-1", "u-2", "u-3"]
    assert got[0][1] == got[1][1] and got[0][1]["stock_quantity"] == 0
    assert got[3][1]["stock_quantity"] == 9 and got[3][1]["price"] == "3.10"
    row = admin_db.execute("select stock_quantity, price::text from shop.products"
                           " where id = %s", (product.id,)).fetchone()
    assert row == (9, "3.10")
    # As the original's worker did: a warning when an update leaves no stock.
    assert '"msg": "product out of stock"' in bridge.log()
    # The RPC server's cache sees what the bridge wrote.
    assert (await s.products.GetProduct(pb.GetProductRequest(product_id=product.id))
            ).stock_quantity == 9


async def test_order_queue_places_once(s, bridge, mq, admin_db):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=10)
    replies_to = await reply_queue(mq)
    body = {"user_id": user.id, "delivery_address_id": address.id,
            "items": [{"product_id": product.id, "quantity": 3}]}
    for n in range(3):
        await publish(mq, "order", body, "o-1", replies_to.name, f"c{n}")
    got = await replies(replies_to, 3)
    assert len({r["id"] for _, r in got}) == 1
    assert got[0][1]["status"] == "ORDER_STATUS_PENDING"
    assert got[0][1]["items"] == [{"product_id": str(product.id), "quantity": 3,
                                   "price_at_order": "2.50"}]
    assert count(admin_db, "select count(*) from shop.orders where user_id = %s", user.id) == 1
    assert count(admin_db, "select stock_quantity from shop.products where id = %s",
                 product.id) == 7


async def test_order_update_and_a_bad_transition(s, bridge, mq, admin_db):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=10)
    order = await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 4)]))
    replies_to = await reply_queue(mq)
    steps = [({"order_id": order.id, "status": "paid"}, "s-1"),       # the original's text
             ({"order_id": order.id, "status": "paid"}, "s-1"),       # duplicate
             ({"order_id": order.id, "status": "CANCELLED"}, "s-2"),
             ({"order_id": order.id, "status": "ORDER_STATUS_SHIPPED"}, "s-3")]
    for body, message_id in steps:
        await publish(mq, "order_update", body, message_id, replies_to.name, message_id)
    got = await replies(replies_to, 4)
    assert [r.get("status") for _, r in got[:3]] == [
        "ORDER_STATUS_PAID", "ORDER_STATUS_PAID", "ORDER_STATUS_CANCELLED"]
    assert got[3][1] == {"code": "FAILED_PRECONDITION", "reason": "BAD_TRANSITION",
                         "message": f"order {order.id} cannot go from CANCELLED to SHIPPED",
                         "field": "status"}
    # Cancelled once: the stock came back once.
    assert count(admin_db, "select stock_quantity from shop.products where id = %s",
                 product.id) == 10
    dead = await take(mq, "order_update.dead", 1)
    assert name_of(dead[0].message_id) == "s-3"
    assert dead[0].headers["x-tally-reason"] == "BAD_TRANSITION"
    assert json.loads(dead[0].body) == steps[3][0]


async def test_poison_messages_are_parked_with_their_reason(s, bridge, mq, admin_db):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=2)

    def order(product_id: int, quantity: int) -> dict:
        return {"user_id": user.id, "delivery_address_id": address.id,
                "items": [{"product_id": product_id, "quantity": quantity}]}

    poison = [(b"{not json", "x-1", "NOT_JSON"),
              ([1, 2], "x-2", "MESSAGE_SHAPE_INVALID"),
              ({"user_id": user.id, "colour": "red"}, "x-3", "MESSAGE_SHAPE_INVALID"),
              (order(product.id, 1), "x-4\n", "IDEMPOTENCY_KEY_INVALID"),
              (order(2**62, 1), "x-5", "PRODUCT_NOT_FOUND"),
              (order(product.id, 3), "x-6", "INSUFFICIENT_STOCK")]
    for body, message_id, _ in poison:
        await publish(mq, "order", body, message_id)
    dead = await take(mq, "order.dead", len(poison))
    by_id = {name_of(m.message_id): m.headers for m in dead}
    for _body, message_id, reason in poison:
        headers = by_id[message_id]
        assert headers["x-tally-reason"] == reason, (message_id, headers)
        assert headers["x-tally-queue"] == "order"
    assert by_id["x-6"]["x-tally-code"] == "FAILED_PRECONDITION"
    # Nothing of them was applied, and the queue goes on.
    assert count(admin_db, "select count(*) from shop.orders where user_id = %s", user.id) == 0
    await asyncio.to_thread(publish_without_message_id, bridge.env["AMQP_URL"], "order",
                            json.dumps(order(product.id, 1)).encode())
    without_id = (await take(mq, "order.dead", 1))[0]
    assert without_id.headers["x-tally-reason"] == "MESSAGE_ID_REQUIRED"
    assert json.loads(without_id.body) == order(product.id, 1)
    await publish(mq, "order", order(product.id, 2), "x-7")
    await eventually(lambda: count(admin_db, "select count(*) from shop.orders"
                                   " where user_id = %s", user.id) == 1, what="the good order")
    assert bridge.metric('tally_amqp_dead_letters_total{queue="order",reason="NOT_JSON"}') == 1
    assert bridge.metric('tally_amqp_messages_total{outcome="dead_lettered",queue="order"}') \
        == len(poison) + 1


async def test_bridge_killed_mid_stream_loses_nothing_and_repeats_nothing(
        s, amqp_url, server, mq, admin_db):
    user, address = await new_user(s)
    products = [await new_product(s, (await new_category(s)).id, stock=10_000)
                for _ in range(3)]
    total = 600
    bodies = [{"user_id": user.id, "delivery_address_id": address.id,
               "items": [{"product_id": products[n % 3].id, "quantity": 1 + n % 2}]}
              for n in range(total)]
    await mq.declare_queue("order", durable=True)  # as a producer does, before the bridge
    # Every message twice, the copy later: a producer's retry.
    for n, body in enumerate(bodies):
        await publish(mq, "order", body, f"k-{n}")
    for n, body in enumerate(bodies):
        await publish(mq, "order", body, f"k-{n}")
    report_queue = unique("report-")
    first = BridgeProcess(amqp_url, report_queue=report_queue).start()
    try:
        await eventually(lambda: count(admin_db, "select count(*) from shop.orders"
                                       " where user_id = %s", user.id) >= 50,
                         what="some orders")
        first.stop(signal.SIGKILL)
        applied_at_kill = count(admin_db, "select count(*) from shop.orders"
                                " where user_id = %s", user.id)
        assert applied_at_kill < total, "the bridge finished before it was killed"
    finally:
        first.stop()
    second = BridgeProcess(amqp_url, report_queue=report_queue).start()
    try:
        await eventually(lambda: count(admin_db, "select count(*) from shop.orders"
                                       " where user_id = %s", user.id) == total,
                         seconds=60, what="every order")
        queue = await mq.declare_queue("order", durable=True)
        await eventually(lambda: second.metric("tally_amqp_messages_total") > 0)
        deadline = time.monotonic() + 30
        while (await mq.declare_queue("order", durable=True)).declaration_result \
                .message_count:
            assert time.monotonic() < deadline, "the queue did not drain"
            await asyncio.sleep(0.2)
        del queue
    finally:
        second.stop()
    assert count(admin_db, "select count(*) from shop.orders where user_id = %s",
                 user.id) == total
    taken = sum(1 + n % 2 for n in range(total))
    assert count(admin_db, "select sum(10000 - stock_quantity) from shop.products"
                 " where id = any(%s)", [p.id for p in products]) == taken
    assert count(admin_db, "select count(*) from tally.idempotency_keys where scope = %s"
                 " and key like %s", "amqp:order", f"{RUN}-k-%") == total
    dead = await (await mq.declare_queue("order.dead", durable=True)).get(fail=False)
    assert dead is None, dead.headers if dead else None


async def test_broker_closing_the_connection_is_survived(s, bridge, vhost, mq, admin_db):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=100)

    def order() -> dict:
        return {"user_id": user.id, "delivery_address_id": address.id,
                "items": [{"product_id": product.id, "quantity": 1}]}

    await publish(mq, "order", order(), "b-1")
    await eventually(lambda: count(admin_db, "select count(*) from shop.orders"
                                   " where user_id = %s", user.id) == 1, what="the first order")
    listed = rabbitmqctl("list_connections", "-q", "--no-table-headers", "pid", "vhost")
    pids = [line.split("\t")[0] for line in listed.splitlines()
            if line.split("\t")[-1].strip() == vhost]
    # The bridge's (one connection) and this test's own: close the bridge's.
    closed = 0
    for pid in pids:
        info = rabbitmqctl("list_connections", "-q", "--no-table-headers", "pid",
                           "client_properties")
        if any(line.startswith(pid) and "tally-amqp-bridge" in line
               for line in info.splitlines()):
            rabbitmqctl("close_connection", pid, "closed by the test")
            closed += 1
    assert closed == 1, listed
    await publish(mq, "order", order(), "b-2")
    await publish(mq, "order", order(), "b-2")
    await publish(mq, "order", order(), "b-3")
    await eventually(lambda: count(admin_db, "select count(*) from shop.orders"
                                   " where user_id = %s", user.id) == 3, seconds=30,
                     what="the orders after the reconnection")
    assert "reconnected to the broker" in bridge.log()


async def test_report_summaries_published_once_across_restarts(s, amqp_url, server, mq,
                                                                admin_db):
    report_queue = unique("report-")
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=100)
    # Days of their own, long ended (no other test reports them).
    base = date(1990, 1, 1) + timedelta(days=int(uuid.uuid4().int % 3000))
    days = [base + timedelta(days=n) for n in range(3)]
    orders = [await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, n)]))
        for n in (2, 3, 4)]
    for day, order in zip(days, orders, strict=True):
        admin_db.execute("update shop.orders set created_at = %s::date + interval '1 hour'"
                         " where id = %s", (day, order.id))

    def recorded(outbox_id: int) -> bool:
        return count(admin_db, "select count(*) from shop.report_publications"
                     " where queue = %s and outbox_id = %s", report_queue, outbox_id) == 1

    def generate(day: date) -> int:
        return admin_db.execute("select outbox_id from shop.generate_daily_reports(%s)",
                                (day,)).fetchone()[0]

    first_id = generate(days[0])
    bridge = BridgeProcess(amqp_url, report_queue=report_queue).start()
    try:
        await eventually(lambda: bridge.metric("tally_amqp_reports_published_total") > 0,
                         what="a report published")
        second_id = generate(days[1])  # published while the bridge runs (NOTIFY)
        await eventually(lambda: recorded(second_id), what="the second")
    finally:
        bridge.stop(signal.SIGKILL)
    third_id = generate(days[2])  # while no bridge runs
    again = BridgeProcess(amqp_url, report_queue=report_queue).start()
    try:
        await eventually(lambda: recorded(third_id), what="the third, after the restart")
        await asyncio.sleep(1.5)  # three of its polls: nothing more to publish
    finally:
        again.stop()
    published = count(admin_db, "select count(*) from shop.report_publications"
                      " where queue = %s", report_queue)
    messages = await take(mq, report_queue, published)
    assert await (await mq.declare_queue(report_queue, durable=True)).get(
        fail=False) is None, "a summary was published twice"
    ids = [int(m.message_id) for m in messages]
    assert len(ids) == len(set(ids)) and {first_id, second_id, third_id} <= set(ids)
    mine = {int(m.message_id): m for m in messages if int(m.message_id) in (first_id, second_id)}
    summary = json.loads(mine[first_id].body)
    assert set(summary) == {"report_date", "reports_count", "reports", "created_at"}
    assert summary["report_date"] == days[0].isoformat() and summary["reports_count"] == 1
    assert summary["reports"][0]["order_id"] == orders[0].id
    assert summary["reports"][0]["count_product"] == 2
    assert set(summary["reports"][0]) == {"report_id", "order_id", "count_product", "report_at"}
    assert mine[first_id].delivery_mode == aio_pika.DeliveryMode.PERSISTENT


def produce(amqp_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "tally-amqp-produce"
    return subprocess.run([str(exe), "--timeout", "20", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "AMQP_URL": amqp_url})


async def test_producer_command_creates_products_and_orders(s, bridge, amqp_url, admin_db):
    user, address = await new_user(s)
    category = await new_category(s)
    done = await asyncio.to_thread(
        produce, amqp_url, "demo", "--user-id", str(user.id), "--address-id",
        str(address.id), "--category-id", str(category.id))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["queue"] for line in lines] == ["product"] * 5 + ["order"] * 3
    assert count(admin_db, "select count(*) from shop.products where category_id = %s",
                 category.id) == 5
    assert count(admin_db, "select count(*) from shop.orders where user_id = %s", user.id) == 3
    # publish: one message; the same message_id again is answered, not applied again.
    body = json.dumps({"order_id": lines[-1]["reply"]["id"], "status": "paid"})
    first = await asyncio.to_thread(produce, amqp_url, "publish", "order_update", body,
                                    "--message-id", sent_id("pay-1"))
    again = await asyncio.to_thread(produce, amqp_url, "publish", "order_update", body,
                                    "--message-id", sent_id("pay-1"))
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert json.loads(first.stdout)["reply"] == json.loads(again.stdout)["reply"]
    wrong = await asyncio.to_thread(produce, amqp_url, "publish", "order_update", body,
                                    "--message-id", sent_id("pay-2"))
    assert wrong.returncode == 1 and json.loads(wrong.stdout)["reply"]["reason"] == \
        "BAD_TRANSITION"


class TcpRelay:
    """A TCP relay to PostgreSQL that can be cut: `down()` closes its port and every
    connection through it (what a client sees when the database goes away: connections
    reset, then refused), `up()` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_database_down_requeues_with_backoff_then_applies_once(amqp_url, mq):
    """Transient failures go back on the queue (not to the dead letters), and once the
    database is back each message is applied once."""
    url = scratch_database_url("amqp")
    await asyncio.to_thread(recreate_database, url)
    with psycopg.connect(url, autocommit=True) as admin:
        user_id, address_id, product_id = admin.execute("""
            with u as (insert into shop.users (username, email)
                       values ('amqp_down', 'amqp.down@example.com') returning id),
                 a as (insert into shop.addresses (user_id, street, city, state, zip_code, country)
                       select id, 'S', 'C', '', '1', 'DE' from u returning id, user_id),
                 c as (insert into shop.categories (name) values ('amqp-down') returning id),
                 p as (insert into shop.products (name, price, stock_quantity, category_id)
                       select 'amqp down', 1.00, 50, id from c returning id)
            select (select user_id from a), (select id from a), (select id from p)""").fetchone()
    info = conninfo_to_dict(url)
    relay = TcpRelay(info.get("host") or "127.0.0.1", int(info.get("port") or 5432))
    await relay.up()
    parts = urlsplit(url)
    relayed = urlunsplit(parts._replace(
        netloc=f"{parts.username or 'postgres'}@127.0.0.1:{relay.port}"))
    bridge = BridgeProcess(amqp_url, relayed, report_queue=unique("report-"),
                           AMQP_MAX_BACKOFF_SECONDS="0.4")
    await asyncio.to_thread(bridge.start)
    try:
        await relay.down()
        body = {"user_id": user_id, "delivery_address_id": address_id,
                "items": [{"product_id": product_id, "quantity": 2}]}
        for n in range(3):
            await publish(mq, "order", body, f"down-{n}")
        await publish(mq, "order", body, "down-0")  # a duplicate, also while down
        await eventually(lambda: bridge.metric(
            'tally_amqp_messages_total{outcome="requeued",queue="order"}') >= 8,
            what="messages requeued, each more than once")
        with psycopg.connect(url, autocommit=True) as admin:
            assert count(admin, "select count(*) from shop.orders") == 0
        await relay.up()
        with psycopg.connect(url, autocommit=True) as admin:
            await eventually(lambda: count(admin, "select count(*) from shop.orders") == 3,
                             what="the orders once the database is back")
            await asyncio.sleep(1.0)
            assert count(admin, "select count(*) from shop.orders") == 3
            assert count(admin, "select stock_quantity from shop.products where id = %s",
                         product_id) == 44
        assert bridge.metric("tally_amqp_dead_letters_total") == 0
    finally:
        await asyncio.to_thread(bridge.stop)
        await relay.down()
