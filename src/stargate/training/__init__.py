"""Training performance: models, memory, step time, and the search for the fastest plan."""
