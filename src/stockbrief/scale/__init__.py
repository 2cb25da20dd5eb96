"""Scale-out: the engine of :mod:`stockbrief.compute` over ticker partitions on a cluster.

:mod:`stockbrief.scale.dask` runs :func:`stockbrief.compute.compute` once per partition of a
Parquet dataset written by ``Store.export_bars`` (``stockbrief export parquet DIR``), on the
workers of a Dask cluster, and gathers only the small results: the events, the latest row of
indicators per ticker and the engine state. Like the engine, it takes paths and returns frames;
the API layer decides what is written to the store.

Nothing is imported here, so that ``import stockbrief.scale`` stays cheap: import
``stockbrief.scale.dask`` (which needs the ``distributed`` package) where it is used.
"""
