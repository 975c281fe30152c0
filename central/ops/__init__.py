"""Operating a deployment from the inside: `doctor` checks a running deployment and says what to do
about each problem; `backup` writes and restores a complete copy (the database, the signed audit
checkpoints and the keys kept outside it) and proves a restore complete. Both answer in `Check`s
(`report`), printed by the CLI as one line each (zh-CN first, an English gloss) or as JSON."""
