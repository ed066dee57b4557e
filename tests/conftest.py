"""Shared test configuration."""

import os

from hypothesis import HealthCheck, settings

# Property tests must be reproducible in CI and quick on two cores.
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("ARCO_HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")
