"""The command lines: each module here is one `python -m core.<name>` (train, sample, bench, experiment,
export, cluster, example). They parse flags, call the layers below and print; nothing below imports them.
The short names (`python -m core.train`) are kept by one-line modules at the top of core/.
"""
