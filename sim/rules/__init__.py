"""The model's rules: one module per rule, each a set of small pure functions.

Rules import nothing above them (no model, no I/O). Each module's docstring states the rule,
its parameters (from :mod:`sim.scenario.schema`) and the article figure that calibrates it.
"""
