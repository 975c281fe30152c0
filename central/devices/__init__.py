"""The hall↔central link: device keys and their authentication (`keys`, `keys_router`), the
observations devices upload and their dispatch to each domain's handlers (`service`,
`device_kinds`), the commands central queues for a hall's agents (`command_kinds` queues and reads
them, `models`, `commands`), the change notifications across instances (`notifier`, `pg_listener`),
and the two ways commands reach an agent: the WebSocket channel (`channel`, with replies up through
`replies`) and the long-poll kept as its fallback (`router`). The wire shapes are the shared
contract, `common.contract`."""
