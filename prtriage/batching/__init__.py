"""`classify --input` over many records: the plan (index, shards), one process or Ray, result files."""
