"""Hypothesis profiles for the property suite, chosen with ``HYPOTHESIS_PROFILE``.

* ``ci`` (default): few examples, derandomised (the same examples on every run, so CI is
  stable), no deadline (run times vary on shared machines), no example database.
* ``thorough``: many random examples for local deep runs (minutes to hours); failures are
  saved in ``.hypothesis/`` and replayed first next time.
* ``dev``: a handful of random examples, for writing new properties.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("ci", max_examples=12, derandomize=True, deadline=None, database=None,
                          print_blob=True, suppress_health_check=_SLOW,
                          phases=[Phase.explicit, Phase.generate, Phase.shrink])
settings.register_profile("thorough", max_examples=400, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW)
settings.register_profile("dev", max_examples=5, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
