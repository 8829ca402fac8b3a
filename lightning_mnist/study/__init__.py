"""The notebook study: sweeps of config runs (``sweeps``), the L1/L2 grid (``grid``), the whole
notebook and its report (``reproduce``, ``report``) and every figure (``figures``)."""
