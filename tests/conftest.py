"""Shared test configuration.

Hypothesis runs derandomized by default, so every run (and CI) explores the same examples and a
failure reproduces exactly. `pytest --hypothesis-profile=explore` searches with fresh randomness.
"""
import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")   # headless: tests never need a display

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
