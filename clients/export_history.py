"""`tally-export-history YEAR MONTH [--user-id N] [-o FILE]`: write a month of segment
history (SegmentService.ExportHistory) to a CSV file, chunk by chunk as it streams.

    tally-export-history 2023 8 -o history-2023-08.csv --addr 127.0.0.1:50051

Against a server that requires API keys, the key (scope segments:read) comes from
TALLY_API_KEY (or --api-key, which other users of the machine can see in the process
list); against a TLS server, the CA from TALLY_CA_FILE (--ca), and for mTLS a client
certificate from TALLY_CLIENT_CERT_FILE and TALLY_CLIENT_KEY_FILE (--cert, --key).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import grpc
from tally.segments.v1 import segments_pb2 as pb
from tally.segments.v1 import segments_pb2_grpc as pb_grpc

from server.core.tls import ClientOptions


def export(addr: str, year: int, month: int, out: Path, user_id: int | None = None,
           timeout: float | None = None, *, options: ClientOptions | None = None) -> int:
    """Stream the export into `out` (written to a temporary name, renamed when
    complete, so a failed export never leaves a partial file). Returns the bytes written."""
    request = pb.ExportHistoryRequest(year=year, month=month)
    if user_id is not None:
        request.user_id = user_id
    partial = out.with_name(out.name + ".partial")
    written = 0
    try:
        options = options or ClientOptions()
        with options.channel(addr) as channel, partial.open("wb") as f:
            stub = pb_grpc.SegmentServiceStub(channel)
            for chunk in stub.ExportHistory(request, timeout=timeout,
                                            metadata=options.metadata()):
                f.write(chunk.data)
                written += len(chunk.data)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tally-export-history",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("year", type=int)
    parser.add_argument("month", type=int)
    parser.add_argument("--user-id", type=int, help="only this user's rows")
    parser.add_argument("-o", "--output", type=Path,
                        help="file to write (default: segments-history-YYYY-MM.csv)")
    parser.add_argument("--addr", default=os.environ.get("GRPC_ADDR", "127.0.0.1:50051"),
                        help="server address (default: GRPC_ADDR or 127.0.0.1:50051)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds")
    parser.add_argument("--api-key", help="API key (default: TALLY_API_KEY; prefer that: an "
                        "argument shows in the process list)")
    parser.add_argument("--ca", help="CA certificate(s) to verify a TLS server (TALLY_CA_FILE)")
    parser.add_argument("--cert", help="client certificate, for mTLS (TALLY_CLIENT_CERT_FILE)")
    parser.add_argument("--key", help="client certificate's key (TALLY_CLIENT_KEY_FILE)")
    parser.add_argument("--server-name",
                        help="name to verify in the server's certificate (TALLY_SERVER_NAME)")
    args = parser.parse_args(argv)
    env = ClientOptions.from_env()
    options = dataclasses.replace(
        env, api_key=args.api_key or env.api_key, ca_file=args.ca or env.ca_file,
        cert_file=args.cert or env.cert_file, key_file=args.key or env.key_file,
        server_name=args.server_name or env.server_name)
    out = args.output or Path(f"segments-history-{args.year:04d}-{args.month:02d}.csv")
    try:
        size = export(args.addr, args.year, args.month, out, args.user_id, args.timeout,
                      options=options)
    except grpc.RpcError as err:
        sys.exit(f"tally-export-history: {err.code().name}: {err.details()}")
    print(f"wrote {size} bytes to {out}")


if __name__ == "__main__":
    main()
