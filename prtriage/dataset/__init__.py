"""Labelled changes: harvest from history, split by repository, seeded samples, the teacher, planted instructions."""
