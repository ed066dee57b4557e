"""Keepalive settings for long-lived streams: the client channel options that fit the server's.

The server (``arco_grpc.server.SERVER_OPTIONS``) pings idle connections every
60 s and accepts client pings no more often than every 10 s
(``grpc.http2.min_recv_ping_interval_without_data_ms``); a client that pings
faster collects "ping strikes" and is disconnected with GOAWAY
(too_many_pings). :data:`CLIENT_CHANNEL_OPTIONS` pings every 30 s, three
times the server's minimum, also while no call is active, so NATs and
proxies keep the connection open and a dead peer is noticed within 40 s. The
watch streams' own heartbeat messages (every 10 s by default) keep proxies
that look only at HTTP/2 data frames happy too.

Clients (the CLI, the worker SDK, dashboards) should open channels with
``grpc.aio.insecure_channel(address, options=CLIENT_CHANNEL_OPTIONS)``.
"""

from __future__ import annotations

# The server's minimum interval between client pings, mirrored from server.py (a test checks they agree).
SERVER_MIN_PING_INTERVAL_MS = 10_000
CLIENT_KEEPALIVE_TIME_MS = 30_000
CLIENT_KEEPALIVE_TIMEOUT_MS = 10_000

CLIENT_CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", CLIENT_KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", CLIENT_KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    # 0: no limit on pings sent while no data flows (a quiet stream is still alive).
    ("grpc.http2.max_pings_without_data", 0),
    # Reconnect quickly after a server restart; watch clients then resume from their cursor.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
)
