"""RocksDB sizing shared by every table: rocksdict's defaults reserve a large block cache per
partition; these keep a worker with a dozen table partitions within tens of megabytes."""

ROCKSDB_OPTIONS = {
    "block_cache_size": 8 * 1024 * 1024,
    "write_buffer_size": 4 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "max_open_files": 256,
}
