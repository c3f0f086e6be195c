"""The path of one change: git → diff → budget → prompt → engine → scoring → result (triage.py wires it)."""
