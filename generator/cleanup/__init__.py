"""Clean-up of sampled motion: turn-snap smoothing and foot locking with two-bone leg IK."""
