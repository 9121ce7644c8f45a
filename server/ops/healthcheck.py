"""`tally-healthcheck [ADDR] [--ca FILE] [--cert FILE --key FILE] [--server-name NAME]`:
exit 0 if the server at ADDR (default GRPC_ADDR) answers SERVING to grpc.health.v1, 1
otherwise. For container health checks.

Health needs no API key. Against a TLS server give the CA that signed its certificate
(--ca, or TALLY_CA_FILE), with mTLS also a client certificate and key
(TALLY_CLIENT_CERT_FILE, TALLY_CLIENT_KEY_FILE); TALLY_SERVER_NAME (--server-name) is
the name to verify when the certificate does not name the address called.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..core.tls import ClientOptions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tally-healthcheck",
                                     description=(__doc__ or "").splitlines()[1])
    parser.add_argument("addr", nargs="?",
                        default=os.environ.get("GRPC_ADDR", "127.0.0.1:50051"))
    parser.add_argument("--ca", help="CA certificate(s) to verify the server (TALLY_CA_FILE)")
    parser.add_argument("--cert", help="client certificate, for mTLS (TALLY_CLIENT_CERT_FILE)")
    parser.add_argument("--key", help="client certificate's key (TALLY_CLIENT_KEY_FILE)")
    parser.add_argument("--server-name", help="name to verify in the server's certificate")
    args = parser.parse_args(argv)
    options = ClientOptions.from_env()
    options = dataclasses.replace(
        options, ca_file=args.ca or options.ca_file, cert_file=args.cert or options.cert_file,
        key_file=args.key or options.key_file,
        server_name=args.server_name or options.server_name)
    addr: str = args.addr
    if addr.startswith("0.0.0.0:"):
        addr = "127.0.0.1:" + addr.split(":", 1)[1]
    try:
        with options.channel(addr) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=3)
    except grpc.RpcError as exc:
        sys.exit(f"{addr}: {exc.code().name}")
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        sys.exit(f"{addr}: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}")


if __name__ == "__main__":
    main()
