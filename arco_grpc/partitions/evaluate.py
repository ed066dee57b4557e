"""Evaluate any partitions definition into a :class:`PartitionSpace`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Union

from arco_grpc.partitions.dynamic import DynamicKeys, DynamicPartitionsDefinition
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition


PartitionsDefinition = Union[
    StaticPartitionsDefinition,
    TimeWindowPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionsDefinition,
]

# Given a dynamic definition's name, the keys it holds now.
DynamicKeysLookup = Callable[[str], DynamicKeys]


def no_dynamic_keys(name: str) -> DynamicKeys:
    """A lookup for contexts without dynamic partitions: every name holds no keys."""
    return DynamicKeys(())


def partition_space(
    definition: PartitionsDefinition,
    *,
    as_of: datetime,
    dynamic_keys: DynamicKeysLookup = no_dynamic_keys,
) -> PartitionSpace:
    """The partitions of ``definition`` that exist at ``as_of`` (an aware datetime)."""
    if isinstance(definition, StaticPartitionsDefinition):
        return definition.space()
    if isinstance(definition, TimeWindowPartitionsDefinition):
        return definition.space(as_of)
    if isinstance(definition, DynamicPartitionsDefinition):
        return definition.space(dynamic_keys(definition.name))
    if isinstance(definition, MultiPartitionsDefinition):
        first, second = (
            partition_space(d.definition, as_of=as_of, dynamic_keys=dynamic_keys) for d in definition.dimensions
        )
        return MultiSpace(definition, first, second)
    raise TypeError(f"not a partitions definition: {definition!r}")
