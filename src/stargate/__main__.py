"""``python -m stargate`` runs the command line."""

from stargate.cli import main

if __name__ == "__main__":  # not when a worker process (Dask, multiprocessing spawn) re-imports it
    main()
