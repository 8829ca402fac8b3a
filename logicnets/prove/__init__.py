"""Proving networks right: truth tables, bit-sliced evaluation, SAT, ``verify``.

Built on :mod:`logicnets.formula`, :mod:`logicnets.network` and :mod:`logicnets.pla`.
"""
