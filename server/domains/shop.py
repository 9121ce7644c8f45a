"""The shop: UserService, ProductService, OrderService, ReportService.

Every rule is in sql/shop/; each RPC is one SQL call. Python adds the Redis cache of
users and products (best effort, after the change committed) and WatchReports, which
streams the report outbox: replay from PostgreSQL, then LISTEN shop_reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import asyncpg
from google.protobuf.message import Message
from tally.shop.v1 import shop_pb2 as pb
from tally.shop.v1 import shop_pb2_grpc as pb_grpc

from ..core import convert, db, errors
from ..core.batching import Batcher
from ..core.cache import cached_messages
from ..core.idempotency import key_and_scope
from ..jobs.job import Job

if TYPE_CHECKING:
    from ..core.context import App
    from ..core.rpc import Registrar

log = logging.getLogger("tally.shop")

SERVICES = [pb.DESCRIPTOR.services_by_name[n].full_name
            for n in ("UserService", "ProductService", "OrderService", "ReportService")]
NOTIFY_CHANNEL = "shop_reports"
REPLAY_BATCH = 100
# Orders of one batch are placed in subtransactions of one transaction; PostgreSQL keeps
# up to 64 subtransaction ids per backend in shared memory, so batches stay within that.
MAX_ORDER_BATCH = 64
# WatchReports re-reads the outbox this often even without a notification: a safety net,
# never the normal path.
WATCH_POLL_SECONDS = 30.0

# The job runner calls this at 00:00 UTC with $1 = the scheduled time, so it reports the
# UTC day that just ended; catch_up fills in days missed while no server ran.
JOBS = [
    Job(name="shop.daily_reports",
        sql="select * from shop.generate_daily_reports("
            "(($1::timestamptz at time zone 'UTC')::date - 1))",
        daily_at=time(0, 0), catch_up=True),
    # Moves the statistics journal into the totals, so readers sum a short journal. Any
    # time is a good time to fold: the scheduled time ($1) is only passed through.
    Job(name="shop.fold_statistics",
        sql="select shop.fold_statistics() as folded, $1::timestamptz as scheduled_for",
        every=timedelta(minutes=1)),
]


def user_key(user_id: int) -> str:
    return f"tally:shop:user:{user_id}"


def product_key(product_id: int) -> str:
    return f"tally:shop:product:{product_id}"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _opt(request: Message, name: str) -> Any:
    return getattr(request, name) if request.HasField(name) else None


def _page(count: int, page: int) -> tuple[int, int]:
    return (count or 10), (page or 1)


def _user(r: asyncpg.Record) -> pb.User:
    return pb.User(id=r["id"], username=r["username"], email=r["email"],
                   description=r["description"], created_at=convert.timestamp(r["created_at"]),
                   updated_at=convert.timestamp(r["updated_at"]))


def _address(r: asyncpg.Record) -> pb.Address:
    return pb.Address(id=r["id"], user_id=r["user_id"], street=r["street"], city=r["city"],
                      state=r["state"], zip_code=r["zip_code"], country=r["country"],
                      is_primary=r["is_primary"], created_at=convert.timestamp(r["created_at"]))


def _product(r: asyncpg.Record) -> pb.Product:
    return pb.Product(id=r["id"], name=r["name"], description=r["description"],
                      price=_money(r["price"]), stock_quantity=r["stock_quantity"],
                      category_id=r["category_id"], created_at=convert.timestamp(r["created_at"]),
                      updated_at=convert.timestamp(r["updated_at"]))


def _order(r: asyncpg.Record) -> pb.Order:
    items = json.loads(r["items"])
    return pb.Order(
        id=r["id"], user_id=r["user_id"], delivery_address_id=r["delivery_address_id"],
        status=pb.OrderStatus.Value(f"ORDER_STATUS_{r['status']}"),
        total_price=_money(r["total_price"]),
        items=[pb.OrderItem(product_id=i["product_id"], quantity=i["quantity"],
                            price_at_order=i["price_at_order"]) for i in items],
        created_at=convert.timestamp(r["created_at"]),
        updated_at=convert.timestamp(r["updated_at"]))


def _status_name(value: pb.OrderStatus.ValueType, *, required: bool) -> str | None:
    if value == pb.ORDER_STATUS_UNSPECIFIED:
        if required:
            raise errors.invalid_argument("status", "status is required", "STATUS_INVALID")
        return None
    try:
        return pb.OrderStatus.Name(value).removeprefix("ORDER_STATUS_")
    except ValueError:
        raise errors.invalid_argument("status", f"unknown status {value}",
                                      "STATUS_INVALID") from None


def _report(r: dict[str, Any] | asyncpg.Record) -> pb.Report:
    return pb.Report(id=r["id"], report_at=str(r["report_at"]), order_id=r["order_id"],
                     count_product=r["count_product"])


class UserService(pb_grpc.UserServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        self.users = cached_messages(pb.User, app.redis, "shop.user", user_key,
                                     app.settings.user_cache_ttl, self._load_user)

    async def CreateUser(self, request: pb.CreateUserRequest, context: Any) -> pb.User:
        row = await db.fetch_row(
            self.pool, "select * from shop.create_user($1, $2, $3, $4, $5)",
            convert.text("username", request.username), convert.text("email", request.email),
            convert.text("description", _opt(request, "description")), *key_and_scope(context))
        return _user(row)

    async def GetUser(self, request: pb.GetUserRequest, context: Any) -> pb.User:
        return await self.users.get(request.user_id)

    async def _load_user(self, user_id: int) -> pb.User:
        return _user(await db.fetch_row(self.pool, "select * from shop.get_user($1)", user_id))

    async def ListUsers(self, request: pb.ListUsersRequest, context: Any
                        ) -> pb.ListUsersResponse:
        rows = await self.pool.fetch("select * from shop.list_users($1, $2)",
                                     *_page(request.count, request.page))
        return pb.ListUsersResponse(users=[_user(r) for r in rows if r["id"] is not None],
                                    total=rows[0]["total"])

    async def UpdateUser(self, request: pb.UpdateUserRequest, context: Any) -> pb.User:
        row = await db.fetch_row(
            self.pool, "select * from shop.update_user($1, $2, $3, $4, $5, $6)", request.user_id,
            convert.text("username", _opt(request, "username")),
            convert.text("email", _opt(request, "email")),
            convert.text("description", _opt(request, "description")), *key_and_scope(context))
        await self.users.invalidate([request.user_id])
        return _user(row)

    async def DeleteUser(self, request: pb.DeleteUserRequest, context: Any
                         ) -> pb.DeleteUserResponse:
        await self.pool.execute("select shop.delete_user($1, $2, $3)", request.user_id,
                                *key_and_scope(context))
        await self.users.invalidate([request.user_id])
        return pb.DeleteUserResponse()

    async def AddAddress(self, request: pb.AddAddressRequest, context: Any) -> pb.Address:
        row = await db.fetch_row(
            self.pool, "select * from shop.add_address($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            request.user_id,
            convert.text("street", request.street), convert.text("city", request.city),
            convert.text("state", request.state), convert.text("zip_code", request.zip_code),
            convert.text("country", request.country), request.is_primary,
            *key_and_scope(context))
        return _address(row)

    async def ListAddresses(self, request: pb.ListAddressesRequest, context: Any
                            ) -> pb.ListAddressesResponse:
        rows = await self.pool.fetch("select * from shop.list_addresses($1)", request.user_id)
        return pb.ListAddressesResponse(addresses=[_address(r) for r in rows])


class ProductService(pb_grpc.ProductServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        self.products = cached_messages(pb.Product, app.redis, "shop.product", product_key,
                                        app.settings.product_cache_ttl, self._load_product)

    async def CreateCategory(self, request: pb.CreateCategoryRequest, context: Any
                             ) -> pb.Category:
        row = await db.fetch_row(self.pool, "select * from shop.create_category($1, $2, $3)",
                                 convert.text("name", request.name), *key_and_scope(context))
        return pb.Category(id=row["id"], name=row["name"])

    async def ListCategories(self, request: pb.ListCategoriesRequest, context: Any
                             ) -> pb.ListCategoriesResponse:
        rows = await self.pool.fetch("select * from shop.list_categories()")
        return pb.ListCategoriesResponse(
            categories=[pb.Category(id=r["id"], name=r["name"]) for r in rows])

    async def CreateProduct(self, request: pb.CreateProductRequest, context: Any) -> pb.Product:
        row = await db.fetch_row(
            self.pool, "select * from shop.create_product($1, $2, $3, $4, $5, $6, $7)",
            convert.text("name", request.name),
            convert.text("description", _opt(request, "description")),
            convert.text("price", request.price),
            request.stock_quantity, request.category_id, *key_and_scope(context))
        return _product(row)

    async def GetProduct(self, request: pb.GetProductRequest, context: Any) -> pb.Product:
        return await self.products.get(request.product_id)

    async def _load_product(self, product_id: int) -> pb.Product:
        return _product(await db.fetch_row(self.pool, "select * from shop.get_product($1)",
                                           product_id))

    async def ListProducts(self, request: pb.ListProductsRequest, context: Any
                           ) -> pb.ListProductsResponse:
        rows = await self.pool.fetch(
            "select * from shop.list_products($1, $2, $3, $4, $5, $6)",
            *_page(request.count, request.page),
            convert.text("name_contains", _opt(request, "name_contains")),
            convert.text("min_price", _opt(request, "min_price"), "PRICE_INVALID"),
            convert.text("max_price", _opt(request, "max_price"), "PRICE_INVALID"),
            _opt(request, "category_id"))
        return pb.ListProductsResponse(
            products=[_product(r) for r in rows if r["id"] is not None], total=rows[0]["total"])

    async def UpdateProduct(self, request: pb.UpdateProductRequest, context: Any
                            ) -> pb.Product:
        key, scope = key_and_scope(context)
        row = await db.fetch_row(
            self.pool, "select * from shop.update_product($1, $2, $3, $4, $5, $6, $7, $8)",
            request.product_id,
            convert.text("name", _opt(request, "name")),
            convert.text("description", _opt(request, "description")),
            convert.text("price", _opt(request, "price")), _opt(request, "stock_quantity"),
            _opt(request, "category_id"), key, scope)
        product = _product(row)
        if key is None:
            await self.products.replace(product.id, product)
        else:  # the answer may be a replay, older than what has committed since
            await self.products.invalidate([product.id])
        return product

    async def DeleteProduct(self, request: pb.DeleteProductRequest, context: Any
                            ) -> pb.DeleteProductResponse:
        await self.pool.execute("select shop.delete_product($1, $2, $3)", request.product_id,
                                *key_and_scope(context))
        await self.products.invalidate([request.product_id])
        return pb.DeleteProductResponse()


# user_id, address_id, [(product, qty)], idempotency key (or None), its scope
Placement = tuple[int, int, list[tuple[int, int]], str | None, str]


class OrderService(pb_grpc.OrderServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        self.redis = app.redis
        # Group commit: concurrent CreateOrder calls go to shop.create_orders together.
        self.placements: Batcher[Placement, pb.Order] = app.batcher(
            "shop.create_orders", self._create_batch, max_size=MAX_ORDER_BATCH)

    async def CreateOrder(self, request: pb.CreateOrderRequest, context: Any) -> pb.Order:
        return await self.placements.submit(
            (request.user_id, request.delivery_address_id,
             [(i.product_id, i.quantity) for i in request.items], *key_and_scope(context)))

    async def _create_batch(self, batch: list[Placement]) -> list[pb.Order | errors.RpcError]:
        line_orders, product_ids, quantities = [], [], []
        keyed = any(b[3] is not None for b in batch)
        for n, (_, _, lines, _, _) in enumerate(batch, start=1):
            for product_id, quantity in lines:
                line_orders.append(n)
                product_ids.append(product_id)
                quantities.append(quantity)
        rows = await self.pool.fetch(
            "select * from shop.create_orders($1, $2, $3, $4, $5, $6, $7)",
            [b[0] for b in batch], [b[1] for b in batch], line_orders, product_ids, quantities,
            [b[3] for b in batch] if keyed else None, [b[4] for b in batch] if keyed else None)
        results = [errors.outcome(r, _order) for r in rows]
        changed = {i.product_id for order in results if isinstance(order, pb.Order)
                   for i in order.items}
        # Committed: the cached stock of these products is stale now.
        await self.redis.invalidate([product_key(p) for p in sorted(changed)])
        return results

    async def GetOrder(self, request: pb.GetOrderRequest, context: Any) -> pb.Order:
        return _order(await db.fetch_row(self.pool, "select * from shop.get_order($1)",
                                         request.order_id))

    async def ListOrders(self, request: pb.ListOrdersRequest, context: Any
                         ) -> pb.ListOrdersResponse:
        rows = await self.pool.fetch(
            "select * from shop.list_orders($1, $2, $3, $4)", _opt(request, "user_id"),
            _status_name(request.status, required=False), *_page(request.count, request.page))
        return pb.ListOrdersResponse(orders=[_order(r) for r in rows if r["id"] is not None],
                                     total=rows[0]["total"])

    async def UpdateOrderStatus(self, request: pb.UpdateOrderStatusRequest, context: Any
                                ) -> pb.Order:
        row = await db.fetch_row(self.pool,
                                 "select * from shop.update_order_status($1, $2, $3, $4)",
                                 request.order_id,
                                 _status_name(request.status, required=True),
                                 *key_and_scope(context))
        order = _order(row)
        if order.status == pb.ORDER_STATUS_CANCELLED:  # the stock came back
            await self.redis.invalidate([product_key(i.product_id) for i in order.items])
        return order

    async def GetSalesStatistics(self, request: pb.GetSalesStatisticsRequest, context: Any
                                 ) -> pb.GetSalesStatisticsResponse:
        rows = await self.pool.fetch(
            "select * from shop.get_sales_statistics($1, $2::text::date, $3::text::date)",
            _opt(request, "category_id"),
            convert.day("date_from", request.date_from, "DATE_INVALID"),
            convert.day("date_to", request.date_to, "DATE_INVALID"))
        return pb.GetSalesStatisticsResponse(statistics=[
            pb.SalesStatistics(category_id=r["category_id"], report_date=str(r["report_date"]),
                               items_sold=r["items_sold"], orders_count=r["orders_count"])
            for r in rows])


class ReportListener:
    """One LISTEN connection per worker process for every open WatchReports stream.

    Each stream subscribes a queue and gets True on every notification. The connection
    opens with the first subscriber and closes with the last, so an idle server holds
    none. If it drops, every subscriber gets False (its stream ends with UNAVAILABLE, and
    the client resumes from the last summary it saw) and the next subscriber opens a new
    one.
    """

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._queues: set[asyncio.Queue[bool]] = set()
        self._lock = asyncio.Lock()

    async def subscribe(self) -> asyncio.Queue[bool]:
        """A queue that hears of every notification sent after this returns."""
        queue: asyncio.Queue[bool] = asyncio.Queue()
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                conn = await asyncpg.connect(self._dsn, server_settings={
                    "application_name": "tally-server-watch-reports"})
                try:
                    await conn.add_listener(NOTIFY_CHANNEL, self._notified)
                except BaseException:
                    conn.terminate()
                    raise
                conn.add_termination_listener(self._terminated)
                self._conn = conn
            self._queues.add(queue)
        return queue

    async def unsubscribe(self, queue: asyncio.Queue[bool]) -> None:
        async with self._lock:
            self._queues.discard(queue)
            if self._queues or self._conn is None:
                return
            conn, self._conn = self._conn, None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), 2.0)

    def _notified(self, *_: object) -> None:
        for queue in self._queues:
            queue.put_nowait(True)

    def _terminated(self, conn: object) -> None:
        if conn is not self._conn:
            return  # closed on purpose by unsubscribe
        self._conn = None
        queues, self._queues = self._queues, set()
        for queue in queues:
            queue.put_nowait(False)


class ReportService(pb_grpc.ReportServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        self.listener = ReportListener(app.settings.app_database_url)

    async def GetReports(self, request: pb.GetReportsRequest, context: Any
                         ) -> pb.GetReportsResponse:
        day = (convert.day("report_date", request.report_date, "DATE_INVALID")
               if request.report_date else datetime.now(UTC).date().isoformat())
        rows = await self.pool.fetch("select * from shop.get_reports($1::text::date)", day)
        return pb.GetReportsResponse(reports=[_report(r) for r in rows])

    async def WatchReports(self, request: pb.WatchReportsRequest, context: Any
                           ) -> AsyncIterator[pb.ReportSummary]:
        last = request.after_id
        query = "select * from shop.report_summaries_after($1, $2)"
        await self.pool.fetch(query, last, 1)  # validates after_id before subscribing
        # Subscribing (LISTEN) comes before the replay, so nothing committed in between
        # is missed; `last` makes a notification for a replayed row a no-op.
        wake = await self.listener.subscribe()
        try:
            while True:
                rows = await self.pool.fetch(query, last, REPLAY_BATCH)
                for r in rows:
                    reports = json.loads(r["reports"])
                    yield pb.ReportSummary(
                        id=r["id"], report_date=str(r["report_date"]),
                        reports_count=r["reports_count"],
                        reports=[_report(x) for x in reports],
                        created_at=convert.timestamp(r["created_at"]))
                    last = r["id"]
                if len(rows) == REPLAY_BATCH:
                    continue
                with contextlib.suppress(TimeoutError):
                    alive = await asyncio.wait_for(wake.get(), WATCH_POLL_SECONDS)
                    if not alive:
                        raise errors.unavailable("database")
                while not wake.empty():
                    if not wake.get_nowait():
                        raise errors.unavailable("database")
        finally:
            await self.listener.unsubscribe(wake)


# The AMQP bridge's report publisher, as tally_jobs: records the outbox ids the broker
# confirmed on `queue` and answers the summaries to publish there next.
MARK_REPORTS_PUBLISHED = "select * from shop.mark_reports_published($1, $2, $3)"


async def reports_to_publish(conn: asyncpg.Connection, queue: str, published: list[int],
                             limit: int = REPLAY_BATCH) -> list[tuple[int, dict[str, Any]]]:
    """Record `published` as confirmed on `queue`; then (outbox id, summary) of the next
    summaries not yet published there, oldest first. A summary reads as the original's
    message on its queue `report`: {report_date, reports_count, reports[{report_id,
    order_id, count_product, report_at}], created_at}."""
    rows = await conn.fetch(MARK_REPORTS_PUBLISHED, queue, published, limit)
    return [(r["id"], {
        "report_date": str(r["report_date"]),
        "reports_count": r["reports_count"],
        "reports": [{"report_id": x["id"], "order_id": x["order_id"],
                     "count_product": x["count_product"], "report_at": str(x["report_at"])}
                    for x in json.loads(r["reports"])],
        "created_at": r["created_at"].isoformat(),
    }) for r in rows]


def add_services(server: Registrar, app: App) -> list[str]:
    pb_grpc.add_UserServiceServicer_to_server(UserService(app), server.as_server())
    pb_grpc.add_ProductServiceServicer_to_server(ProductService(app), server.as_server())
    pb_grpc.add_OrderServiceServicer_to_server(OrderService(app), server.as_server())
    pb_grpc.add_ReportServiceServicer_to_server(ReportService(app), server.as_server())
    return SERVICES
