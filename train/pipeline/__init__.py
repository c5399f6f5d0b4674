"""The ALPI pipeline over numbered stage directories: step 0, steps 1..K, refinement (``scripts/*.sh`` call it)."""
