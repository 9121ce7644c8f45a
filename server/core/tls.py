"""TLS for the server (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE) and for tally's
own clients (tally-healthcheck, tally-export-history): TALLY_CA_FILE,
TALLY_CLIENT_CERT_FILE, TALLY_CLIENT_KEY_FILE, TALLY_SERVER_NAME and TALLY_API_KEY."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from .config import Settings


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SystemExit(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS for the listening port when TLS_CERT_FILE/TLS_KEY_FILE are set (None: plaintext);
    with TLS_CLIENT_CA_FILE, clients must present a certificate that CA signed."""
    if not settings.tls_cert_file:
        return None
    pair = (_read(settings.tls_key_file, "TLS_KEY_FILE"),
            _read(settings.tls_cert_file, "TLS_CERT_FILE"))
    client_ca = (_read(settings.tls_client_ca_file, "TLS_CLIENT_CA_FILE")
                 if settings.tls_client_ca_file else None)
    return grpc.ssl_server_credentials([pair], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)


@dataclass(frozen=True)
class ClientOptions:
    """How a tally client reaches the server: TLS (on when a CA file is given, or `tls`
    for the system's trusted CAs), an optional client certificate (mTLS), the name to
    verify in the server's certificate when addressing it by IP, and an API key."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    api_key: str = ""
    tls: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ClientOptions:
        return cls(ca_file=env.get("TALLY_CA_FILE", ""),
                   cert_file=env.get("TALLY_CLIENT_CERT_FILE", ""),
                   key_file=env.get("TALLY_CLIENT_KEY_FILE", ""),
                   server_name=env.get("TALLY_SERVER_NAME", ""),
                   api_key=env.get("TALLY_API_KEY", ""),
                   tls=env.get("TALLY_TLS", "").strip().lower() in {"1", "true", "yes", "on"})

    @property
    def uses_tls(self) -> bool:
        return self.tls or bool(self.ca_file or self.cert_file)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Call metadata: the API key as `authorization: Bearer <key>`, if there is one."""
        return (("authorization", f"Bearer {self.api_key}"),) if self.api_key else ()

    def channel(self, addr: str) -> grpc.Channel:
        if not self.uses_tls:
            return grpc.insecure_channel(addr)
        if bool(self.cert_file) != bool(self.key_file):
            raise SystemExit("a client certificate needs its key: give both or neither")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_file, "CA file") if self.ca_file else None,
            private_key=_read(self.key_file, "client key") if self.key_file else None,
            certificate_chain=_read(self.cert_file, "client certificate")
            if self.cert_file else None)
        options = ([("grpc.ssl_target_name_override", self.server_name)]
                   if self.server_name else [])
        return grpc.secure_channel(addr, credentials, options)
