"""What goes into a network: input signals, training tasks, and readers of untrusted files."""
