"""Scenario batches: replicates and parameter sweeps, local processes or a Dask cluster.

``negsim batch`` is the command; :func:`run_scenario` and :func:`run_batch` the library calls.
"""

from sim.batch.api import BatchResult, run_batch, run_scenario
from sim.batch.plan import Plan, RunSpec, make_plan
from sim.batch.store import BatchStore, load_runs, load_timeseries

__all__ = ["BatchResult", "BatchStore", "Plan", "RunSpec", "load_runs", "load_timeseries", "make_plan",
           "run_batch", "run_scenario"]
