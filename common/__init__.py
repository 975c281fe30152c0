"""What every side of hallwatch shares — central, the edge agent and the hall displays import it and
never each other: working-day arithmetic (`common.worktime`), rule profiles (`common.profiles`),
YAML line finding (`common.yamlio`), config findings (`common.findings`), the one rule of when a
window must be staffed (`common.staffing`), the dates the system accepts (`common.dates`) and the
device wire contract between a hall and central (`common.contract`).

Pure: it depends on pydantic, PyYAML and chinesecalendar only (no database, no web framework), so a
hall's box installs it without the server's dependencies.
"""
