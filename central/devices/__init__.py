"""The hall↔central link: device keys and their authentication (`keys`, `keys_router`), the
observations devices upload and their dispatch to each domain's handlers (`service`, `schemas`,
`device_kinds`), and the commands central queues for a hall's agents (`models`, `commands`,
`notify`, the long-poll in `router`)."""
