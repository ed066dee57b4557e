"""arco-grpc: a gRPC control plane for partitioned data backfills."""

__version__ = "0.1.0"
