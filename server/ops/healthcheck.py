"""`python -m server.ops.healthcheck [ADDR]`: exit 0 if the server at ADDR (default GRPC_ADDR)
answers SERVING to grpc.health.v1, 1 otherwise. For container health checks."""

from __future__ import annotations

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main() -> None:
    addr = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GRPC_ADDR", "127.0.0.1:50051")
    if addr.startswith("0.0.0.0:"):
        addr = "127.0.0.1:" + addr.split(":", 1)[1]
    try:
        with grpc.insecure_channel(addr) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=3)
    except grpc.RpcError as exc:
        sys.exit(f"{addr}: {exc.code().name}")
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        sys.exit(f"{addr}: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}")


if __name__ == "__main__":
    main()
