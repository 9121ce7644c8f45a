"""The Redis cache of users and products: keys, JSON values, TTLs (from the environment),
invalidation after commits, and answers from PostgreSQL when Redis is down."""

from __future__ import annotations

import asyncio

import grpc
from tally.shop.v1 import shop_pb2 as pb

from server.core import convert
from tests.shop.helpers import Stubs, item, new_category, new_product, new_user, unique
from tests.support import ServerProcess, cached, free_port


def user_key(user_id: int) -> str:
    return f"tally:shop:user:{user_id}"


def product_key(product_id: int) -> str:
    return f"tally:shop:product:{product_id}"


def cached_product(redis_client, product_id: int) -> pb.Product | None:
    raw = cached(redis_client, product_key(product_id))
    return None if raw is None else convert.from_json(pb.Product, raw)


async def test_user_cache_aside(s, redis_client):
    user, _ = await new_user(s)
    key = user_key(user.id)
    assert redis_client.get(key) is None
    assert await s.users.GetUser(pb.GetUserRequest(user_id=user.id)) == user
    cached_user = cached(redis_client, key)
    assert (cached_user["username"], cached_user["created_at"]["seconds"]) == (
        user.username, user.created_at.seconds)
    assert convert.from_json(pb.User, cached_user) == user
    assert 3590 <= redis_client.ttl(key) <= 3600
    assert await s.users.GetUser(pb.GetUserRequest(user_id=user.id)) == user  # a hit

    updated = await s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id, description="x"))
    assert redis_client.get(key) is None, "deleted once the update committed"
    assert await s.users.GetUser(pb.GetUserRequest(user_id=user.id)) == updated
    assert redis_client.get(key) is not None

    await s.users.DeleteUser(pb.DeleteUserRequest(user_id=user.id))
    assert redis_client.get(key) is None, "deleted once the delete committed"


async def test_product_cache_follows_stock(s, redis_client):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=10)
    await s.products.GetProduct(pb.GetProductRequest(product_id=product.id))
    assert cached_product(redis_client, product.id) == product
    assert 590 <= redis_client.ttl(product_key(product.id)) <= 600

    order = await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 3)]))
    assert cached_product(redis_client, product.id) is None, "an order drops the stale stock"
    fresh = await s.products.GetProduct(pb.GetProductRequest(product_id=product.id))
    assert fresh.stock_quantity == 7 and cached_product(redis_client, product.id) == fresh

    await s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
        order_id=order.id, status=pb.ORDER_STATUS_CANCELLED))
    assert cached_product(redis_client, product.id) is None, "so does a cancellation"
    assert (await s.products.GetProduct(
        pb.GetProductRequest(product_id=product.id))).stock_quantity == 10


async def test_product_cache_rewritten_on_update_deleted_on_delete(s, redis_client):
    product = await new_product(s, (await new_category(s)).id)
    await s.products.GetProduct(pb.GetProductRequest(product_id=product.id))
    updated = await s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=product.id, price="99.99", name=unique("renamed ")))
    assert cached_product(redis_client, product.id) == updated, "rewritten after the update"
    assert 590 <= redis_client.ttl(product_key(product.id)) <= 600
    assert await s.products.GetProduct(pb.GetProductRequest(product_id=product.id)) == updated
    await s.products.DeleteProduct(pb.DeleteProductRequest(product_id=product.id))
    assert cached_product(redis_client, product.id) is None


async def test_redis_down_answers_from_postgres(database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server = ServerProcess(database_url, REDIS_URL=dead, JOBS="false").start()
    try:
        async with grpc.aio.insecure_channel(server.addr) as channel:
            s = Stubs(channel)
            user, address = await new_user(s)
            assert await s.users.GetUser(pb.GetUserRequest(user_id=user.id)) == user
            updated = await s.users.UpdateUser(pb.UpdateUserRequest(
                user_id=user.id, description="no redis"))
            assert await s.users.GetUser(pb.GetUserRequest(user_id=user.id)) == updated
            product = await new_product(s, (await new_category(s)).id, stock=5)
            assert await s.products.GetProduct(
                pb.GetProductRequest(product_id=product.id)) == product
            await s.orders.CreateOrder(pb.CreateOrderRequest(
                user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 2)]))
            renamed = await s.products.UpdateProduct(pb.UpdateProductRequest(
                product_id=product.id, name=unique("still works ")))
            assert renamed.stock_quantity == 3
            assert await s.products.GetProduct(
                pb.GetProductRequest(product_id=product.id)) == renamed
            await s.users.DeleteUser(pb.DeleteUserRequest(user_id=(await new_user(s))[0].id))
    finally:
        server.stop()


async def test_cache_ttls_come_from_the_environment(database_url, redis_client):
    server = ServerProcess(database_url, JOBS="false", USER_CACHE_TTL="45",
                           PRODUCT_CACHE_TTL="30").start()
    try:
        async with grpc.aio.insecure_channel(server.addr) as channel:
            s = Stubs(channel)
            user, _ = await new_user(s)
            product = await new_product(s, (await new_category(s)).id)
            await s.users.GetUser(pb.GetUserRequest(user_id=user.id))
            await s.products.GetProduct(pb.GetProductRequest(product_id=product.id))
            assert 40 <= redis_client.ttl(user_key(user.id)) <= 45
            assert 25 <= redis_client.ttl(product_key(product.id)) <= 30
            await s.products.UpdateProduct(pb.UpdateProductRequest(
                product_id=product.id, stock_quantity=1))
            # The update's own write-through, or (where another test server's listener
            # dropped the key on hearing the same commit) the next read, caches it again
            # with the configured TTL.
            ttl = -2
            for _ in range(50):
                await s.products.GetProduct(pb.GetProductRequest(product_id=product.id))
                ttl = redis_client.ttl(product_key(product.id))
                if ttl > 0:
                    break
                await asyncio.sleep(0.05)
            assert 25 <= ttl <= 30
    finally:
        server.stop()
