"""ProductService end to end: categories and products, every RPC and error."""

from __future__ import annotations

import grpc
import pytest
from tally.shop.v1 import shop_pb2 as pb

from tests.shop.helpers import item, new_category, new_product, new_user, unique
from tests.support import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_categories(s):
    name = unique("Cat-")
    category = await s.products.CreateCategory(pb.CreateCategoryRequest(name=name))
    assert category.name == name
    listed = (await s.products.ListCategories(pb.ListCategoriesRequest())).categories
    assert category in listed
    await expect_error(s.products.CreateCategory(pb.CreateCategoryRequest(name=name.upper())),
                       grpc.StatusCode.ALREADY_EXISTS, "CATEGORY_NAME_TAKEN")
    await expect_error(s.products.CreateCategory(pb.CreateCategoryRequest(name="")), INVALID,
                       "NAME_INVALID")


async def test_create_get_product(s):
    category = await new_category(s)
    product = await s.products.CreateProduct(pb.CreateProductRequest(
        name="Hammer", description="heavy", price="12.5", stock_quantity=7,
        category_id=category.id))
    assert (product.name, product.description, product.price, product.stock_quantity,
            product.category_id) == ("Hammer", "heavy", "12.50", 7, category.id)
    assert await s.products.GetProduct(pb.GetProductRequest(product_id=product.id)) == product


@pytest.mark.parametrize(
    ("change", "code", "reason"),
    [
        ({"price": "0"}, INVALID, "PRICE_INVALID"),
        ({"price": "-1"}, INVALID, "PRICE_INVALID"),
        ({"price": "1.999"}, INVALID, "PRICE_INVALID"),
        ({"price": "1e2"}, INVALID, "PRICE_INVALID"),
        ({"price": ""}, INVALID, "PRICE_INVALID"),
        ({"stock_quantity": -1}, INVALID, "STOCK_QUANTITY_INVALID"),
        ({"name": ""}, INVALID, "NAME_INVALID"),
        ({"description": "d" * 2001}, INVALID, "DESCRIPTION_INVALID"),
        ({"category_id": 0}, INVALID, "CATEGORY_ID_INVALID"),
        ({"category_id": 2**62}, grpc.StatusCode.NOT_FOUND, "CATEGORY_NOT_FOUND"),
    ],
)
async def test_create_product_invalid(s, change, code, reason):
    category = await new_category(s)
    fields = {"name": "x", "price": "1.00", "stock_quantity": 1, "category_id": category.id,
              **change}
    await expect_error(s.products.CreateProduct(pb.CreateProductRequest(**fields)), code, reason)


async def test_get_product_errors(s):
    await expect_error(s.products.GetProduct(pb.GetProductRequest(product_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "PRODUCT_NOT_FOUND")
    await expect_error(s.products.GetProduct(pb.GetProductRequest(product_id=0)), INVALID,
                       "PRODUCT_ID_INVALID")


async def test_list_products_filters(s):
    category = await new_category(s)
    tag = unique("Tag")
    made = [await s.products.CreateProduct(pb.CreateProductRequest(
        name=f"{tag} {n}", price=price, stock_quantity=1, category_id=category.id))
        for n, price in enumerate(["1.00", "5.00", "9.99"])]
    found = await s.products.ListProducts(pb.ListProductsRequest(name_contains=tag.lower()))
    assert [p.id for p in found.products] == [p.id for p in made] and found.total == 3
    ranged = await s.products.ListProducts(pb.ListProductsRequest(
        name_contains=tag, min_price="5", max_price="9.99"))
    assert [p.price for p in ranged.products] == ["5.00", "9.99"]
    by_cat = await s.products.ListProducts(pb.ListProductsRequest(category_id=category.id,
                                                                  count=2, page=2))
    assert [p.id for p in by_cat.products] == [made[2].id] and by_cat.total == 3
    await expect_error(s.products.ListProducts(pb.ListProductsRequest(min_price="9",
                                                                      max_price="1")),
                       INVALID, "PRICE_RANGE_REVERSED")
    await expect_error(s.products.ListProducts(pb.ListProductsRequest(min_price="cheap")),
                       INVALID, "PRICE_INVALID")
    await expect_error(s.products.ListProducts(pb.ListProductsRequest(count=500)), INVALID,
                       "COUNT_INVALID")
    await expect_error(s.products.ListProducts(pb.ListProductsRequest(page=-2)), INVALID,
                       "PAGE_INVALID")


async def test_update_product(s):
    category = await new_category(s)
    other = await new_category(s)
    product = await new_product(s, category.id, stock=3, price="1.00")
    updated = await s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=product.id, price="2.25", category_id=other.id))
    assert (updated.name, updated.price, updated.stock_quantity, updated.category_id) == (
        product.name, "2.25", 3, other.id)
    cleared = await s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=product.id, description="", stock_quantity=0))
    assert not cleared.HasField("description") and cleared.stock_quantity == 0
    await expect_error(s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=product.id, price="0.00")), INVALID, "PRICE_INVALID")
    await expect_error(s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=product.id, stock_quantity=-5)), INVALID, "STOCK_QUANTITY_INVALID")
    await expect_error(s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=product.id, category_id=2**62)), grpc.StatusCode.NOT_FOUND,
        "CATEGORY_NOT_FOUND")
    await expect_error(s.products.UpdateProduct(pb.UpdateProductRequest(
        product_id=2**62, name="x")), grpc.StatusCode.NOT_FOUND, "PRODUCT_NOT_FOUND")
    await expect_error(s.products.UpdateProduct(pb.UpdateProductRequest(product_id=0)),
                       INVALID, "PRODUCT_ID_INVALID")


async def test_delete_product(s):
    category = await new_category(s)
    product = await new_product(s, category.id)
    await s.products.DeleteProduct(pb.DeleteProductRequest(product_id=product.id))
    await expect_error(s.products.GetProduct(pb.GetProductRequest(product_id=product.id)),
                       grpc.StatusCode.NOT_FOUND, "PRODUCT_NOT_FOUND")
    await expect_error(s.products.DeleteProduct(pb.DeleteProductRequest(product_id=product.id)),
                       grpc.StatusCode.NOT_FOUND, "PRODUCT_NOT_FOUND")
    await expect_error(s.products.DeleteProduct(pb.DeleteProductRequest(product_id=0)),
                       INVALID, "PRODUCT_ID_INVALID")
    ordered = await new_product(s, category.id)
    user, address = await new_user(s)
    await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(ordered.id, 1)]))
    await expect_error(s.products.DeleteProduct(pb.DeleteProductRequest(product_id=ordered.id)),
                       grpc.StatusCode.FAILED_PRECONDITION, "PRODUCT_HAS_ORDERS")
