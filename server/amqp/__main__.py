"""`python -m server.amqp`: the AMQP bridge in the foreground (see server/amqp/bridge.py).

Configuration: the server's DATABASE_URL/APP_DATABASE_URL/JOBS_DATABASE_URL and REDIS_URL,
plus AMQP_URL and the other AMQP_* variables README lists.
"""

from __future__ import annotations

from ..core import logs
from ..core.config import Settings
from ..worker import run_loop


def main() -> None:
    from .bridge import BridgeSettings, run

    settings = Settings.from_env()
    bridge_settings = BridgeSettings.from_env()
    logs.setup(settings.log_level)
    run_loop(lambda: run(settings, bridge_settings))


if __name__ == "__main__":
    main()
