"""Compile boolean formulas into two-layer Heaviside threshold networks."""
