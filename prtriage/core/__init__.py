"""What every command shares: errors, settings, categories, escaping, atomic files, JSONL, progress."""
