"""Scale out: partitions of target instances (or of series ids), computed one after another
in this process or as tasks on a Dask distributed cluster.

Nothing is imported here: a Dask worker unpickling a featurekit task imports only the
modules that task needs (so polars starts after its thread pool was sized for the worker).
"""
