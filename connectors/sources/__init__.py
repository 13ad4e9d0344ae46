"""Producers: one per configured data source, each writing lines (and metric payloads) to the Redis
stream `logs` and keeping a cursor so a restart neither loses nor repeats data."""
