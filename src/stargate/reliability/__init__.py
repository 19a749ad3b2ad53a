"""Reliability: failures, recovery strategies, warm spares, checkpoints, goodput.

One concept per module: :mod:`.failures` (how often a job of N GPUs is interrupted, by cause),
:mod:`.checkpoint` (Daly's checkpoint interval and goodput), :mod:`.strategies` (the catalog's
recovery strategies, their restart law and the goodput breakdown each gives), :mod:`.spares` (warm
spares by Little's law) and :mod:`.simulate` (a seeded Monte Carlo of each strategy). See
``docs/reliability.md``.
"""
