"""The one place where errors become gRPC statuses.

SQL functions raise domain errors with SQLSTATE class TL and a reason in DETAIL (and,
for a bad argument, its name in COLUMN). Batch functions return the same four facts as
columns of an outcome row. Either way they end up here as an `RpcError`, which carries
google.rpc.ErrorInfo (reason, domain "tally") and, where it helps the caller, BadRequest
or PreconditionFailure details. Anything unexpected becomes INTERNAL with a generic
message; the detail goes to the log only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

import asyncpg
import grpc
from google.protobuf import any_pb2, duration_pb2, message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

log = logging.getLogger("tally.errors")

DOMAIN = "tally"

T = TypeVar("T")

# Project SQLSTATEs (class TL), then standard ones. Classes (first two characters) are
# matched when the full code is not listed.
_BY_SQLSTATE: dict[str, grpc.StatusCode] = {
    "TLNF1": grpc.StatusCode.NOT_FOUND,
    "TLAE1": grpc.StatusCode.ALREADY_EXISTS,
    "TLFP1": grpc.StatusCode.FAILED_PRECONDITION,
    "TLIA1": grpc.StatusCode.INVALID_ARGUMENT,
    "TLRE1": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "23505": grpc.StatusCode.ALREADY_EXISTS,
    "23503": grpc.StatusCode.FAILED_PRECONDITION,
    "23502": grpc.StatusCode.INVALID_ARGUMENT,
    "23514": grpc.StatusCode.INVALID_ARGUMENT,
    "40001": grpc.StatusCode.ABORTED,
    "40P01": grpc.StatusCode.ABORTED,
    "55P03": grpc.StatusCode.ABORTED,
    "57014": grpc.StatusCode.DEADLINE_EXCEEDED,
    "42501": grpc.StatusCode.PERMISSION_DENIED,
    "57P01": grpc.StatusCode.UNAVAILABLE,
    "57P02": grpc.StatusCode.UNAVAILABLE,
    "57P03": grpc.StatusCode.UNAVAILABLE,
}
_BY_CLASS: dict[str, grpc.StatusCode] = {
    "22": grpc.StatusCode.INVALID_ARGUMENT,
    "08": grpc.StatusCode.UNAVAILABLE,
    "53": grpc.StatusCode.UNAVAILABLE,
}
# Reasons for standard SQLSTATEs, when the database gives none of its own.
_DEFAULT_REASON: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.ALREADY_EXISTS: "ALREADY_EXISTS",
    grpc.StatusCode.FAILED_PRECONDITION: "FAILED_PRECONDITION",
    grpc.StatusCode.INVALID_ARGUMENT: "INVALID_ARGUMENT",
    grpc.StatusCode.ABORTED: "CONCURRENT_UPDATE",
    grpc.StatusCode.DEADLINE_EXCEEDED: "STATEMENT_TIMEOUT",
    grpc.StatusCode.PERMISSION_DENIED: "PERMISSION_DENIED",
    grpc.StatusCode.UNAVAILABLE: "DATABASE_UNAVAILABLE",
}


def status_for_sqlstate(sqlstate: str | None) -> grpc.StatusCode:
    if not sqlstate:
        return grpc.StatusCode.INTERNAL
    code = _BY_SQLSTATE.get(sqlstate) or _BY_CLASS.get(sqlstate[:2])
    return code or grpc.StatusCode.INTERNAL


class RpcError(Exception):
    """An error to send to the caller: status code, message, reason, optional details."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: str,
        *,
        field: str | None = None,
        details: Iterable[message.Message] = (),
        metadata: dict[str, str] | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.field = field
        self.details = list(details)
        self.metadata = metadata or {}
        self.sqlstate = sqlstate

    def to_status(self) -> grpc.Status:
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN)
        info.metadata.update(self.metadata)
        if self.field:
            info.metadata["field"] = self.field
        packed = [info, *self.details]
        if self.field and self.code == grpc.StatusCode.INVALID_ARGUMENT and not any(
            isinstance(d, error_details_pb2.BadRequest) for d in self.details
        ):
            packed.append(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=self.field, description=self.message
                        )
                    ]
                )
            )
        anys = []
        for detail in packed:
            a = any_pb2.Any()
            a.Pack(detail)
            anys.append(a)
        return rpc_status.to_status(
            status_pb2.Status(code=self.code.value[0], message=self.message, details=anys)
        )


def invalid_argument(field: str, message: str, reason: str = "INVALID_ARGUMENT") -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message, reason, field=field)


def from_outcome(row: asyncpg.Record) -> RpcError:
    """The error a batch function reports in an outcome row: columns error_sqlstate,
    error_reason, error_message, error_field, and error_hint where the function has one
    (see _details_from_hint). As for a raised error, a SQLSTATE without a mapping becomes
    INTERNAL with the generic message, and the row's own message goes to the log only."""
    sqlstate = row["error_sqlstate"]
    code = status_for_sqlstate(sqlstate)
    if code == grpc.StatusCode.INTERNAL:
        return internal(RuntimeError(f"{sqlstate}: {row['error_message']}"))
    return RpcError(
        code, row["error_message"] or code.name.lower(), row["error_reason"] or code.name,
        field=row["error_field"], details=_details_from_hint(row.get("error_hint")),
        sqlstate=sqlstate,
    )


def outcome(row: asyncpg.Record, value: Callable[[asyncpg.Record], T]) -> T | RpcError:
    """One outcome row of a batch function as its caller's answer: `value(row)` when the
    row reports no error (error_sqlstate is null), else the error it reports."""
    return value(row) if row["error_sqlstate"] is None else from_outcome(row)


def from_postgres(exc: asyncpg.PostgresError) -> RpcError:
    sqlstate = getattr(exc, "sqlstate", None)
    code = status_for_sqlstate(sqlstate)
    if code == grpc.StatusCode.INTERNAL:
        return internal(exc)
    if sqlstate and sqlstate.startswith("TL"):
        reason = (getattr(exc, "detail", None) or code.name).strip()
        return RpcError(
            code,
            exc.args[0] if exc.args else str(exc),
            reason,
            field=getattr(exc, "column_name", None),
            details=_details_from_hint(getattr(exc, "hint", None)),
            sqlstate=sqlstate,
        )
    reason = _DEFAULT_REASON.get(code, code.name)
    constraint = getattr(exc, "constraint_name", None)
    metadata = {"constraint": constraint} if constraint else {}
    if code == grpc.StatusCode.UNAVAILABLE:
        log.error("database unavailable: %s (sqlstate %s)", exc, sqlstate)
        return RpcError(code, "database unavailable, retry later", reason, sqlstate=sqlstate,
                        details=[retry_info(UNAVAILABLE_RETRY_SECONDS)])
    # The database's own message, e.g. "value too long" or a violated constraint's name,
    # tells the caller what to fix; none of it is secret.
    return RpcError(
        code,
        str(exc),
        reason,
        field=getattr(exc, "column_name", None),
        metadata=metadata,
        sqlstate=sqlstate,
    )


def _details_from_hint(hint: str | None) -> list[message.Message]:
    """Details a TL error spells out as JSON in its HINT. So far one kind:
    {"precondition_failure": [{"type", "subject", "description"}, ...]} (e.g. every short
    product of an order). Any other HINT is plain text for people: no details."""
    if not hint or not hint.startswith("{"):
        return []
    try:
        parsed = json.loads(hint)
        violations = parsed.get("precondition_failure") if isinstance(parsed, dict) else None
        if not isinstance(violations, list):
            return []
        return [precondition_failure(
            (str(v.get("type", "")), str(v.get("subject", "")), str(v.get("description", "")))
            for v in violations if isinstance(v, dict))]
    except ValueError:
        return []


def internal(exc: BaseException) -> RpcError:
    log.error("internal error: %r", exc, exc_info=exc)
    return RpcError(grpc.StatusCode.INTERNAL, "internal error", "INTERNAL")


# What an UNAVAILABLE answer suggests as the client's wait before retrying (RetryInfo).
UNAVAILABLE_RETRY_SECONDS = 1.0


def unavailable(what: str, exc: BaseException | None = None) -> RpcError:
    if exc is not None:
        log.error("%s unavailable: %r", what, exc)
    return RpcError(grpc.StatusCode.UNAVAILABLE, f"{what} unavailable, retry later",
                    f"{what.upper()}_UNAVAILABLE",
                    details=[retry_info(UNAVAILABLE_RETRY_SECONDS)])


def to_rpc_error(exc: BaseException) -> RpcError:
    """Classify any exception raised while serving a call."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        return from_postgres(exc)
    # Connection-level failures, however asyncpg reports them: a connection terminated
    # mid-call can surface as an InternalClientError (its protocol state broken) as well.
    if isinstance(
        exc,
        asyncpg.InterfaceError | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.InternalClientError
        | ConnectionError | OSError | asyncio.TimeoutError,
    ):
        return unavailable("database", exc)
    return internal(exc)


def retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    whole = int(seconds)
    return error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
    )


def precondition_failure(
    violations: Iterable[tuple[str, str, str]],
) -> error_details_pb2.PreconditionFailure:
    """PreconditionFailure from (type, subject, description) triples."""
    return error_details_pb2.PreconditionFailure(
        violations=[
            error_details_pb2.PreconditionFailure.Violation(type=t, subject=s, description=d)
            for t, s, d in violations
        ]
    )


__all__ = [
    "DOMAIN",
    "RpcError",
    "from_outcome",
    "from_postgres",
    "internal",
    "invalid_argument",
    "outcome",
    "precondition_failure",
    "retry_info",
    "status_for_sqlstate",
    "to_rpc_error",
    "unavailable",
]
