"""Deterministic workload simulator for the platform database (``agenthub simulate``)."""

from platform_core.simulate.profiles import SimulationConfig
from platform_core.simulate.run import NotMigratedError, SimulationReport, simulate

__all__ = ["NotMigratedError", "SimulationConfig", "SimulationReport", "simulate"]
