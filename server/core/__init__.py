"""What every call shares: configuration, the pool, the cache, errors, RPC plumbing,
batching, paging, metrics, logs and the App context. Imports nothing else of server/."""
