"""Boolean formulas as plain data: the tuple tree, its one walker, text, sympy and DNF forms.

Nothing here knows about networks; every other subpackage builds on this one.
"""
