"""The notebook study: one registry of sweeps (``registry``), their runs (``sweeps``, ``training``,
``runs``), one owner of a results folder (``store``), the L1/L2 grid (``grid``), the other stages
(``stages``), the whole notebook and its report (``reproduce``, ``claims``, ``report``,
``provenance``), every figure (``figures``) and one command-line front (``cli``)."""
