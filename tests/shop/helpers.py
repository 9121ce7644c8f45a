"""Shared helpers of the shop's end-to-end tests."""

from __future__ import annotations

import uuid

import grpc
from tally.shop.v1 import shop_pb2 as pb
from tally.shop.v1 import shop_pb2_grpc as pb_grpc


class Stubs:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.users = pb_grpc.UserServiceStub(channel)
        self.products = pb_grpc.ProductServiceStub(channel)
        self.orders = pb_grpc.OrderServiceStub(channel)
        self.reports = pb_grpc.ReportServiceStub(channel)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"



async def new_user(s: Stubs) -> tuple[pb.User, pb.Address]:
    name = unique("u_")
    user = await s.users.CreateUser(pb.CreateUserRequest(username=name,
                                                         email=f"{name}@example.com"))
    address = await s.users.AddAddress(pb.AddAddressRequest(
        user_id=user.id, street="Main 1", city="Berlin", zip_code="10115", country="DE",
        is_primary=True))
    return user, address


async def new_category(s: Stubs) -> pb.Category:
    return await s.products.CreateCategory(pb.CreateCategoryRequest(name=unique("cat-")))


async def new_product(s: Stubs, category_id: int, stock: int = 10, price: str = "2.50"
                      ) -> pb.Product:
    return await s.products.CreateProduct(pb.CreateProductRequest(
        name=unique("product "), price=price, stock_quantity=stock, category_id=category_id))


def item(product_id: int, quantity: int) -> pb.CreateOrderRequest.Item:
    return pb.CreateOrderRequest.Item(product_id=product_id, quantity=quantity)
