"""The stack: forward and adjoint loops over the cells, the order of computation, where numbers
overflow, what a run will cost, and the readable reference engine the fast one is tested against."""
