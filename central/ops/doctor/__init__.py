"""`hallwatch doctor`: a deployment checked from the inside, each problem with what to do about it.

The checks, in order (`run.run_checks`): the database is reachable (`database`) and migrated to the
code's head revision; the working-day calendar covers the coming days (`calendar`); the audit chain's
signed checkpoints are recent and agree with the chain (`audit`); each edge agent's clock is close to
central's, and no device has gone silent (`devices`). A database that cannot be reached or is not
migrated skips the checks that read it. Thresholds are `DoctorLimits`."""
