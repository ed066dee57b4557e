"""The gRPC edge: servicers, proto <-> domain converters, the error-status table."""

from arco_grpc.service.appending import AfterCommit, Clock
from arco_grpc.service.backfill_app import BackfillApplication
from arco_grpc.service.backfill_servicer import BackfillServicer
from arco_grpc.service.catalog_app import CatalogApplication
from arco_grpc.service.catalog_servicer import CatalogServicer
from arco_grpc.service.errors import map_errors

__all__ = [
    "AfterCommit",
    "BackfillApplication",
    "BackfillServicer",
    "CatalogApplication",
    "CatalogServicer",
    "Clock",
    "map_errors",
]
