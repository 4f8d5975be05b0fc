"""Training through torch.optim: the loop, minibatches, the History it keeps, optimizers."""
