"""Hypothesis profiles: `make test` keeps each property's bounded example count;
`make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs tests/test_fuzz.py's properties 10,000 times each."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,  # a failure prints the @reproduce_failure line to replay it
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
