"""Tamper-evident audit trail: every write appended to a hash chain, verifiable by `hallwatch audit verify`."""
