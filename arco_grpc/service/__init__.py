"""The gRPC edge: servicers, proto <-> domain converters, the error-status table."""

from arco_grpc.service.catalog_app import CatalogApplication, Clock
from arco_grpc.service.catalog_servicer import CatalogServicer
from arco_grpc.service.errors import ErrorMappingInterceptor

__all__ = ["CatalogApplication", "CatalogServicer", "Clock", "ErrorMappingInterceptor"]
