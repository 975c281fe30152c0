"""Users, roles, jurisdiction and tokens (SC-13..15)."""
