"""The public side of central (RULES QTH-4, SZ-6): each hall's progress feed for its screens (a
snapshot and Server-Sent Events), the kiosk's case lookup by query password, the item catalog and the
hall's rules. No sign-in; every person in it masked by `common.masking`."""
