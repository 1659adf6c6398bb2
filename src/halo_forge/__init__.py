"""halo-forge: RLVR for code models.

generate → verify in a sandbox → filter → fine-tune (RAFT) → benchmark pass@k.
"""

__version__ = "0.1.0"
