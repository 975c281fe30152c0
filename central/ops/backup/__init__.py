"""Backups of a deployment and the restore drill (`hallwatch backup create | verify | restore`).

A backup is a directory: the database (`pg_dump -Fc` on PostgreSQL, a copy made by SQLite's backup
API otherwise), the files kept outside the database on purpose (the signed audit checkpoints, the
audit signing key and its public key, the patrol draw key) and `manifest.json`: when, which
migration revision, the row count of every table, the audit chain's head, the stored evidence's bytes
and the SHA-256 of every file. The evidence store itself (snapshots, patrol clips, complaint
attachments, monthly report PDFs) lives in the database, each item beside its own SHA-256.

A restore goes into an empty database only, and is proven complete by `verify`: every file's
SHA-256, the revision, every table's count, the audit chain recomputed and held to the latest signed
checkpoint, and every stored item's bytes against its hash."""
