"""Shared test configuration.

Hypothesis runs derandomized by default, so every run (and CI) explores the same examples and a
failure reproduces exactly. `pytest --hypothesis-profile=explore` searches with fresh randomness.

Tests that render a drawing with Graphviz's `dot` program ask for the `graphviz_dot` fixture (or carry
`@pytest.mark.usefixtures("graphviz_dot")`). Without `dot` they are skipped, saying why and how to
install it - except under CI (the environment variable CI is set, as `.ci/run` and hosted CI services
do), where Graphviz is installed on purpose, so its absence fails those tests instead of hiding them.
"""
import os
import shutil

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")   # headless: tests never need a display

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DOT_MISSING = ("Graphviz's 'dot' program is not installed, and this test renders a drawing with it "
               "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)")


def under_ci():
    """True when the tests run under CI (CI set to anything but '', '0' or 'false')."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


@pytest.fixture
def graphviz_dot():
    """The path of Graphviz's `dot` program. Skips the test when it is missing; fails it under CI."""
    path = shutil.which("dot")
    if path is None:
        if under_ci():
            pytest.fail(f"CI is set but {DOT_MISSING}; CI must install it (.ci/run does)", pytrace=False)
        pytest.skip(DOT_MISSING)
    return path
