"""Runs: cached calls into the core, their budgets, the server's shared memory, exports."""
