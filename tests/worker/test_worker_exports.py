"""The worker SDK's public surface is exactly this list: changing it is a deliberate act."""

import arco_grpc.worker

EXPECTED = [
    "Backoff",
    "ChunkFailure",
    "ChunkHandler",
    "ChunkTask",
    "CommandCancelled",
    "CommandFailed",
    "ExecHandler",
    "PartialFailure",
    "Worker",
    "run_until_signalled",
]


def test_all_is_pinned() -> None:
    assert sorted(arco_grpc.worker.__all__) == EXPECTED


def test_every_exported_name_exists() -> None:
    for name in arco_grpc.worker.__all__:
        assert getattr(arco_grpc.worker, name) is not None, name
