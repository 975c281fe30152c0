"""The keypad side: the wire protocol (rating_device.protocol), a pty transport with line faults,
and an emulator that behaves like a rating keypad (docs/keypad-protocol.md)."""
