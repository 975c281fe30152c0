"""Central's periodic work: one runner for every domain's jobs (`central.jobs.runner`).

Each domain exposes its own jobs (signals, evidence purge, audit checkpoints, …) and the app factory
(`central.app`) registers them explicitly; this package knows no domain.
"""
