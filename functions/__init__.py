"""Job functions, one module or folder per task family, and the group worker that runs them."""
