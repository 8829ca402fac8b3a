"""Covers of cubes (ESPRESSO's data) and the two-level minimizer on them, at any width."""
