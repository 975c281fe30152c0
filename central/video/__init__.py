"""Edge video at central (issue #4): camera health and outages, staff presence and absence (离岗)
per window, visitor counts, evidence snapshots with approved access (SC-5, SC-6.1, SC-18), and the
dual-track cross-check of camera visits against recorded cases (RULES, last section)."""
