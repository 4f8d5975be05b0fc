"""The weights of a deep RNN: seeded initialization, the Model (torch's names), files."""
