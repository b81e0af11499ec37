"""Alert rules as the core keeps them: how their channels are stored and read back."""
