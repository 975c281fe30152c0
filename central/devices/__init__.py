"""The hall↔central link: device keys and their authentication (`keys`, `keys_router`), the
observations devices upload and their dispatch to each domain's handlers (`service`,
`device_kinds`), and the commands central queues for a hall's agents (`command_kinds` queues and
reads them, `models`, `commands`, `notify`, the long-poll in `router`). The wire shapes are the
shared contract, `common.contract`."""
