"""GitHub: the Actions runner's I/O, the REST client, the --github mode, labels, the sticky comment."""
