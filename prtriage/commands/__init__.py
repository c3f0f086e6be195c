"""One module per command or classify mode: a function from a typed options object to an exit code.

cli.py declares the flags, builds the options and calls these; errors raised here become exit
codes in cli.main. Heavy modules (the model, GitHub) are imported inside the functions, so that
`prtriage --help` and `prtriage label` stay fast and light.
"""
