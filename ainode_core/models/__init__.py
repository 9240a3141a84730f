"""Model records, the persisted catalog, storage layout, fetching weights, model folders."""
