"""Building networks: ``compile`` and its constructions (DNF, threshold, symmetric, two-level covers).

The top layer below the command line: it uses every other subpackage.
"""
