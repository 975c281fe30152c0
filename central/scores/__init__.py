"""Performance scores (QTH-3, SZ-16..20): daily explained lines per staff member, window, department and
hall, month totals, corrections after approvals, month close, and the monthly e-supervision report."""
