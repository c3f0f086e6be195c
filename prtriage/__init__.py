"""prtriage: local triage of pull requests with a small LLM through llama.cpp."""

__version__ = "0.2.0"
