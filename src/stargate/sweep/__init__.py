"""Design-space sweeps: specs, the engine (local or Dask), Parquet results, Pareto fronts."""
