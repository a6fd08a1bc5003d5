"""The evidence-status vocabulary of provenance columns (kept import-free for the CLI's help)."""

# Ordered from the best-verified to the least; reports treat the first two as verified.
EVIDENCE_STATUSES = ("full-text", "abstract", "secondary-source", "derived", "unverified-claim")
VERIFIED_STATUSES = ("full-text", "abstract")
