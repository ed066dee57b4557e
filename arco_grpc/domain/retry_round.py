"""RetryFailedPartitions as a pure decision: which partitions a new round retries.

The retried set of a target is exactly its failed partitions and the ones
they blocked (upstream failed, inside the backfill), plus, for a
cancelled backfill asked with ``include_unattempted``, its partitions without
an outcome (never attempted, or cut short by the cancel). It is computed from
the backfill's outcomes and the target's selection only, so it can never hold
a partition outside the selection: retry never widens the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arco_grpc.domain.backfill import Backfill, BackfillState, check_expected_version
from arco_grpc.domain.chunk_events import RetriedTarget, RetryRoundOpened
from arco_grpc.domain.outcomes import unite, without
from arco_grpc.errors import FailedPrecondition
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.planning.chunks import chunk_count


@dataclass(frozen=True, slots=True)
class RetryFailedPartitions:
    """Open round r + 1 over the failed partitions (and the unattempted ones of a cancelled backfill)."""

    include_unattempted: bool = False
    reason: str = ""
    expected_version: int | None = None


def retried_partitions(
    backfill: Backfill, selections: Sequence[AnySubset], include_unattempted: bool
) -> list[tuple[AnySubset, int]]:
    """Per target: the partitions a retry round would hold, and how many of them had an outcome (failed or
    upstream failed: the rest had none, so the cancel counted them)."""
    retried = []
    for position, selection in enumerate(selections):
        failed = unite(backfill.outcomes.failed[position], backfill.outcomes.upstream_failed[position])
        chosen = failed
        if include_unattempted and backfill.state is BackfillState.CANCELLED:
            unattempted = without(without(selection, backfill.outcomes.succeeded[position]), failed)
            chosen = unite(failed, unattempted)
        retried.append((chosen, failed.count))
    return retried


def decide_retry(
    command: RetryFailedPartitions, backfill: Backfill, selections: Sequence[AnySubset]
) -> list[RetryRoundOpened]:
    """The event opening the next round; ``selections`` are the targets' selections, in target order.

    Raises:
        Aborted: ``expected_version`` does not match.
        FailedPrecondition: the backfill is not COMPLETED or CANCELLED, or has nothing to retry.
    """
    check_expected_version(backfill, command.expected_version)
    state = backfill.state
    if state not in (BackfillState.COMPLETED, BackfillState.CANCELLED):
        raise FailedPrecondition(
            f"cannot retry backfill {backfill.backfill_id}: it is {state.name}; failed partitions are retried "
            "once it is COMPLETED (or CANCELLED); its chunks are retried automatically until then",
            reason="BACKFILL_NOT_FINISHED",
            metadata={"state": state.name},
        )
    retried = retried_partitions(backfill, selections, command.include_unattempted)
    targets = tuple(
        RetriedTarget(
            asset_key=target.asset_key,
            partitions=partitions,
            chunk_count=chunk_count(partitions.count, target.chunk_size),
            failed_count=failed_count,
        )
        for target, (partitions, failed_count) in zip(backfill.spec.targets, retried)
        if not partitions.is_empty
    )
    if not targets:
        hint = (
            " (pass include_unattempted to run the partitions the cancel left out)"
            if state is BackfillState.CANCELLED and not command.include_unattempted
            else ""
        )
        raise FailedPrecondition(
            f"backfill {backfill.backfill_id} has no failed partitions to retry{hint}",
            reason="NOTHING_TO_RETRY",
            metadata={"state": state.name},
        )
    return [RetryRoundOpened(backfill.round + 1, targets, command.include_unattempted, command.reason)]
