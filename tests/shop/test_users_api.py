"""UserService end to end: every RPC, every error status and reason."""

from __future__ import annotations

import grpc
import pytest
from tally.shop.v1 import shop_pb2 as pb

from tests.shop.helpers import item, new_category, new_product, new_user, unique
from tests.support import expect_error, status_details

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_create_get_user(s):
    name = unique("Ann_")
    user = await s.users.CreateUser(pb.CreateUserRequest(
        username=name, email=f"{name}@Example.COM", description="hello"))
    assert user.id > 0 and user.username == name
    assert user.email == f"{name.lower()}@example.com"
    assert user.description == "hello"
    assert user.created_at == user.updated_at
    assert await s.users.GetUser(pb.GetUserRequest(user_id=user.id)) == user
    bare = await s.users.CreateUser(pb.CreateUserRequest(username=unique("b_"),
                                                         email=f"{unique('b')}@x.org"))
    assert not bare.HasField("description")


@pytest.mark.parametrize(
    ("username", "email", "description", "field", "reason"),
    [
        ("ab", "a@b.cd", None, "username", "USERNAME_INVALID"),
        ("with space", "a@b.cd", None, "username", "USERNAME_INVALID"),
        ("nul\x00name", "a@b.cd", None, "username", "USERNAME_INVALID"),
        ("okname", "nope", None, "email", "EMAIL_INVALID"),
        ("okname", "", None, "email", "EMAIL_INVALID"),
        ("okname", "a@b.cd", "d" * 1001, "description", "DESCRIPTION_INVALID"),
    ],
)
async def test_create_user_invalid(s, username, email, description, field, reason):
    err = await expect_error(s.users.CreateUser(pb.CreateUserRequest(
        username=username, email=email, description=description)), INVALID, reason)
    assert [v.field for v in status_details(err)["BadRequest"].field_violations] == [field]


async def test_create_user_taken(s):
    user, _ = await new_user(s)
    await expect_error(s.users.CreateUser(pb.CreateUserRequest(
        username=user.username.upper(), email=f"{unique('x')}@example.com")),
        grpc.StatusCode.ALREADY_EXISTS, "USERNAME_TAKEN")
    err = await expect_error(s.users.CreateUser(pb.CreateUserRequest(
        username=unique("y_"), email=user.email.upper())),
        grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN")
    assert status_details(err)["ErrorInfo"].metadata["field"] == "email"


async def test_get_user_errors(s):
    await expect_error(s.users.GetUser(pb.GetUserRequest(user_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(s.users.GetUser(pb.GetUserRequest(user_id=0)), INVALID, "USER_ID_INVALID")


async def test_list_users(s):
    for _ in range(3):
        await new_user(s)
    first = await s.users.ListUsers(pb.ListUsersRequest())
    assert len(first.users) == min(10, first.total) and first.total >= 3
    page = await s.users.ListUsers(pb.ListUsersRequest(count=2, page=2))
    assert len(page.users) == 2 and page.total == first.total
    assert [u.id for u in page.users] == [u.id for u in first.users[2:4]]
    past = await s.users.ListUsers(pb.ListUsersRequest(count=100, page=100000))
    assert list(past.users) == [] and past.total == first.total
    await expect_error(s.users.ListUsers(pb.ListUsersRequest(count=101)), INVALID, "COUNT_INVALID")
    await expect_error(s.users.ListUsers(pb.ListUsersRequest(count=-1)), INVALID, "COUNT_INVALID")
    await expect_error(s.users.ListUsers(pb.ListUsersRequest(page=-1)), INVALID, "PAGE_INVALID")


async def test_update_user(s):
    user, _ = await new_user(s)
    other, _ = await new_user(s)
    updated = await s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id, description="new"))
    assert (updated.username, updated.email, updated.description) == (
        user.username, user.email, "new")
    assert updated.updated_at.ToDatetime() > user.updated_at.ToDatetime()
    renamed = await s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id,
                                                            username=unique("r_")))
    assert renamed.description == "new"
    cleared = await s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id, description=""))
    assert not cleared.HasField("description")
    await expect_error(s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id,
                                                               email=other.email)),
                       grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN")
    await expect_error(s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id,
                                                               username=other.username)),
                       grpc.StatusCode.ALREADY_EXISTS, "USERNAME_TAKEN")
    await expect_error(s.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id, email="x")),
                       INVALID, "EMAIL_INVALID")
    await expect_error(s.users.UpdateUser(pb.UpdateUserRequest(user_id=2**62, username="zzz")),
                       grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(s.users.UpdateUser(pb.UpdateUserRequest(user_id=0)), INVALID,
                       "USER_ID_INVALID")


async def test_delete_user(s):
    user, _ = await new_user(s)
    await s.users.DeleteUser(pb.DeleteUserRequest(user_id=user.id))
    await expect_error(s.users.GetUser(pb.GetUserRequest(user_id=user.id)),
                       grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(s.users.DeleteUser(pb.DeleteUserRequest(user_id=user.id)),
                       grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(s.users.DeleteUser(pb.DeleteUserRequest(user_id=0)), INVALID,
                       "USER_ID_INVALID")


async def test_delete_user_with_orders_is_refused(s):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id)
    await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 1)]))
    await expect_error(s.users.DeleteUser(pb.DeleteUserRequest(user_id=user.id)),
                       grpc.StatusCode.FAILED_PRECONDITION, "USER_HAS_ORDERS")
    assert (await s.users.GetUser(pb.GetUserRequest(user_id=user.id))).id == user.id


async def test_addresses(s):
    user, first = await new_user(s)
    second = await s.users.AddAddress(pb.AddAddressRequest(
        user_id=user.id, street="Side 2", city="Hamburg", state="HH", zip_code="20095",
        country="DE"))
    assert not second.is_primary and first.is_primary
    third = await s.users.AddAddress(pb.AddAddressRequest(
        user_id=user.id, street="New 3", city="Köln", zip_code="50667", country="DE",
        is_primary=True))
    listed = (await s.users.ListAddresses(pb.ListAddressesRequest(user_id=user.id))).addresses
    assert [a.id for a in listed] == [third.id, first.id, second.id]
    assert [a.is_primary for a in listed] == [True, False, False]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"street": ""}, "STREET_INVALID"),
        ({"city": ""}, "CITY_INVALID"),
        ({"state": "s" * 101}, "STATE_INVALID"),
        ({"zip_code": ""}, "ZIP_CODE_INVALID"),
        ({"country": "D"}, "COUNTRY_INVALID"),
        ({"user_id": 0}, "USER_ID_INVALID"),
    ],
)
async def test_add_address_invalid(s, change, reason):
    user, _ = await new_user(s)
    fields = {"user_id": user.id, "street": "S", "city": "C", "zip_code": "1", "country": "DE",
              **change}
    await expect_error(s.users.AddAddress(pb.AddAddressRequest(**fields)), INVALID, reason)


async def test_address_errors(s):
    await expect_error(s.users.AddAddress(pb.AddAddressRequest(
        user_id=2**62, street="S", city="C", zip_code="1", country="DE")),
        grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(s.users.ListAddresses(pb.ListAddressesRequest(user_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(s.users.ListAddresses(pb.ListAddressesRequest(user_id=0)), INVALID,
                       "USER_ID_INVALID")
