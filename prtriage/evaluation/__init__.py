"""prtriage eval: predictions, metrics, the printed report, plots, the rules baseline, the reasoning check."""
