"""The test suite.

Passwords are hashed at OWASP's minimum argon2id cost (19 MiB × 2 passes, one lane): a setting a
deployment may choose (central.access.passwords.HashCost), five times cheaper than the default, and
the suite hashes and verifies thousands of them. Set here, before any module of central is imported,
and inherited by the central processes the tests start.
"""

import os

os.environ.setdefault("HALLWATCH_PASSWORD_HASH_MEMORY_KIB", "19456")
os.environ.setdefault("HALLWATCH_PASSWORD_HASH_TIME_COST", "2")
os.environ.setdefault("HALLWATCH_PASSWORD_HASH_PARALLELISM", "1")
