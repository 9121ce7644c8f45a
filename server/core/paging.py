"""Keyset paging for List RPCs: page sizes and opaque page tokens.

A token carries the last id of the previous page and a one-letter kind, so a token from
one List RPC is refused by another. Page size 0 means the default; sizes above the
maximum are treated as the maximum; a negative size is an error.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any

import asyncpg

from . import errors

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_MAX_ID = 2**63 - 1  # ids are bigint
_ID = re.compile(r"[0-9]{1,19}")


def page_size(requested: int) -> int:
    if requested < 0:
        raise errors.invalid_argument("page_size", "page_size must not be negative",
                                      "PAGE_SIZE_INVALID")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def after_id(kind: str, token: str) -> int:
    """The id a page starts after (0 for the first page)."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        token_kind, _, value = raw.partition(":")
        if token_kind != kind or not _ID.fullmatch(value) or int(value) > _MAX_ID:
            raise ValueError(raw)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.invalid_argument("page_token", "page_token is not one this server issued",
                                      "PAGE_TOKEN_INVALID") from None


def next_token(kind: str, rows: Sequence[Any]) -> str:
    """The token of the page after `rows` (the last id they hold)."""
    last = rows[-1]["id"]
    return base64.urlsafe_b64encode(f"{kind}:{last}".encode()).decode().rstrip("=")


async def fetch_page(pool: asyncpg.Pool, sql: str, kind: str, page_token: str,
                     requested_size: int) -> tuple[list[asyncpg.Record], str]:
    """One page of a List RPC: `sql` takes $1 = the id to start after, $2 = the page size
    and returns rows with an `id`. Returns the rows and the next page's token, which is
    empty on the last page: a full page is followed by a token only when a row follows
    it (asked with page size 1, so the SQL's own size limit still holds)."""
    size = page_size(requested_size)
    rows = await pool.fetch(sql, after_id(kind, page_token), size)
    if len(rows) < size or not await pool.fetch(sql, rows[-1]["id"], 1):
        return rows, ""
    return rows, next_token(kind, rows)
