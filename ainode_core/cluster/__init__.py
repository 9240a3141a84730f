"""ConfigNode membership (register / restart / remove) and the load sample heartbeats report."""
