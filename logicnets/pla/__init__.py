"""Berkeley PLA files and the incompletely specified multi-output functions they describe.

Row bitsets over the inputs, no networks: :mod:`logicnets.construct` and :mod:`logicnets.prove` use this.
"""
