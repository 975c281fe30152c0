"""Which rule profile each region uses (assignment) and the profiles API; the profiles themselves
(schema, loader, the shipped YAML) are in `common.profiles`, shared with the edge."""
