"""One RPC of an `arco` verb: call the server, then show the answer (or the refusal) to a person or as JSON."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from arco_grpc.cli import _render as render

RPC_TIMEOUT_SECONDS = 30.0

# The RPC of a verb, given the service's stub, and how its answer is shown to a person.
Call = Callable[[Any], Awaitable[Message]]
Show = Callable[[Message, TextIO], None]


async def _call(server: str, stub_type: Callable[[grpc.aio.Channel], Any], call: Call) -> Message:
    async with grpc.aio.insecure_channel(server) as channel:
        return await asyncio.wait_for(call(stub_type(channel)), RPC_TIMEOUT_SECONDS)


def call_and_show(
    command: str, args: argparse.Namespace, stub_type: Callable[[grpc.aio.Channel], Any], call: Call, show: Show,
    out: TextIO, err: TextIO,
) -> int:
    """Makes ``call`` on ``args.server`` and prints the answer (``args.json``: as JSON); returns the exit code,
    1 when the server refused or did not answer in time."""
    try:
        response = asyncio.run(_call(args.server, stub_type, call))
    except grpc.aio.AioRpcError as error:
        print(f"arco {command} {args.verb}: {render.rpc_error(error)}", file=err)
        return 1
    except asyncio.TimeoutError:
        print(f"arco {command} {args.verb}: no answer from {args.server} within {RPC_TIMEOUT_SECONDS:.0f} s", file=err)
        return 1
    if args.json:
        print(json_format.MessageToJson(response, preserving_proto_field_name=True), file=out)
    else:
        show(response, out)
    return 0
