"""halo-forge: RLVR for code models (generate → verify in a sandbox → filter → fine-tune → benchmark)."""

__version__ = "0.1.0"
