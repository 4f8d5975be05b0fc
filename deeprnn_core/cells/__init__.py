"""Cell types: each cell's forward step and exact backward, side by side."""
