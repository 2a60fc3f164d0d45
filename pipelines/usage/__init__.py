"""Usage: per-agent daily usage (partitioned), all-time agent summary, user activity."""
