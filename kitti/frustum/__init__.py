"""The ALPI data side: frustum sets and their store, proxies, the instance library, the set-building engine and
refinement regions."""
