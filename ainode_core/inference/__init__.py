"""Serving: model instances per device, batching, scheduling, LOAD/UNLOAD."""
