"""The network: scale-out fabric cost and power."""
