"""Heaviside threshold networks as plain data: neurons, layers, evaluation, JSON, torch, decompiling.

Built on :mod:`logicnets.formula`; the compilers and provers build on this.
"""
