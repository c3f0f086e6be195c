"""prtriage.train: fine-tune a small causal LM on labeled changes and export GGUF (train extra)."""
